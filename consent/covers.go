package consent

// Covers reports whether scope includes part (one of Scopes), counting
// full as every part: what a coworker's shared copy holds of a record.
func Covers(scope []string, part string) bool { return covers(scope, part) }
