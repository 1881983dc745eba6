package vault

import (
	"errors"
	"fmt"

	"github.com/clientvault/clientvault/records"
)

// entryError classifies what records.CheckEntry found wrong with a
// treatment entry: a field is invalid input (ErrInvalid); contraindications
// are a refusal by a rule (ErrRefused), with the *ContraindicationError
// kept for the caller to show its warnings.
func entryError(err error) error {
	var ce *records.ContraindicationError
	if errors.As(err, &ce) {
		return fmt.Errorf("%w: %w", ErrRefused, ce)
	}
	return fmt.Errorf("%w: %s", ErrInvalid, err)
}
