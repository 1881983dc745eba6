package vault

// The actions of audit events, as stored in the log and printed by
// `audit`. They are part of the file format: a stored event keeps its
// action's spelling.
const (
	ActionInit          = "init"
	ActionUpgrade       = "upgrade"
	ActionAdd           = "add"
	ActionImport        = "import"
	ActionUpdate        = "update"
	ActionView          = "view"
	ActionList          = "list"
	ActionNote          = "note"
	ActionEdit          = "edit"
	ActionExport        = "export"
	ActionBackup        = "backup"
	ActionMigrate       = "migrate"
	ActionRestore       = "restore"
	ActionVerify        = "verify"
	ActionAudit         = "audit"
	ActionErase         = "erase"
	ActionExpire        = "expire"
	ActionDestroy       = "destroy"
	ActionHold          = "hold"
	ActionRelease       = "release"
	ActionRekey         = "rekey"
	ActionRotate        = "rotate"
	ActionRetention     = "retention"
	ActionStaffAdd      = "staff-add"
	ActionStaffRemove   = "staff-remove"
	ActionConsentAdd    = "consent-add"
	ActionConsentRevoke = "consent-revoke"
	ActionShare         = "share"
	ActionShareFile     = "share-file"
	ActionUnshare       = "unshare"
	ActionDisclose      = "disclose"
	// ActionRejected records a coworker's event that was not folded into
	// the chain: one a coworker cannot cause (only their own views are).
	ActionRejected = "rejected-coworker-event"
)
