package vault

import (
	"time"

	"github.com/clientvault/clientvault/records"
)

// lapseConsents ends, in the expiry's transaction tx, the shares whose
// consent or share period ended by now (see Lapse), and returns how many.
func (v *Vault) lapseConsents(tx *txn, now time.Time) (int, error) {
	return v.lapseShares(tx, records.DateOf(now))
}
