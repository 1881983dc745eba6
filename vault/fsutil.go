package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// writeNewFile writes a new file durably and atomically, never replacing one
// that exists: the data goes to a temporary file in the same directory, is
// synced, and is then linked into place (link fails if the name is taken).
// Only a complete file ever appears under path.
func writeNewFile(path string, data []byte) error {
	return writeDurably(path, data, func(tmp string) error {
		if err := os.Link(tmp, path); err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s: %w", path, ErrExists)
			}
			return err
		}
		return nil
	})
}

// replaceFile writes data durably and renames it over path.
func replaceFile(path string, data []byte) error {
	return writeDurably(path, data, func(tmp string) error { return os.Rename(tmp, path) })
}

func writeDurably(path string, data []byte, publish func(tmp string) error) error {
	dir := filepath.Dir(path)
	if err := ensureDir(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".clientvault-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := publish(tmp); err != nil {
		return err
	}
	return syncDir(dir)
}

// ensureDir creates dir, and any parent it needs, readable by the owner only
// (0700). An existing directory is left as it is: it is the user's.
func ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	return os.MkdirAll(dir, 0o700)
}

// syncDir makes a rename or link in dir durable. Some systems cannot sync a
// directory; that is not an error there.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
