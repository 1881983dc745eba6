//go:build !linux

package vault

// dropMapped does nothing here; see mapped_linux.go.
func (v *Vault) dropMapped() {}

func (v *Vault) unmapPages() {}

func fileResident() int64 { return 0 }
