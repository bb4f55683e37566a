package seal

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/steward-gov/steward/internal/atomicfile"
)

// Environment variables that carry the root key (standard base64 of 32
// bytes). When set, they win over the key file. LegacyRootKeyEnv is the
// name the vault used before every secret was sealed; it is still read.
const (
	RootKeyEnv       = "STEWARD_ROOT_KEY"
	LegacyRootKeyEnv = "STEWARD_VAULT_ROOT_KEY"
)

// LegacyRootKeyFile is the name of the root key file that Steward kept in
// the data directory before the key moved out of it; [MigrateLegacyKey]
// moves it away.
const LegacyRootKeyFile = "vault-root.key"

// DefaultRootKeyFile is where the root key lives when nothing else is
// configured: steward/root.key under the user's configuration directory
// ($XDG_CONFIG_HOME or ~/.config on Linux), away from the data directory,
// so that a copy of the data (a backup, the database file, a shared
// PostgreSQL) opens nothing without it.
func DefaultRootKeyFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("seal: no user configuration directory for the root key (set a root key file or %s): %w", RootKeyEnv, err)
	}
	return filepath.Join(dir, "steward", "root.key"), nil
}

// KeySource says where the root key comes from.
type KeySource struct {
	// File is the key file, created (32 random bytes, base64, mode 0600,
	// written atomically) when missing. Empty means DefaultRootKeyFile.
	File string
	// Lookup reads RootKeyEnv and LegacyRootKeyEnv (nil: no environment).
	Lookup func(string) (string, bool)
	// Fallback is the key file when File is empty and the user has no
	// configuration directory (no $HOME, as in some containers).
	Fallback string
}

// FromEnv reports whether the key comes from the environment, and from
// which variable.
func (src KeySource) FromEnv() (string, bool) {
	if src.Lookup == nil {
		return "", false
	}
	for _, name := range []string{RootKeyEnv, LegacyRootKeyEnv} {
		if v, ok := src.Lookup(name); ok && strings.TrimSpace(v) != "" {
			return name, true
		}
	}
	return "", false
}

// Path is the key file the source reads and creates.
func (src KeySource) Path() (string, error) {
	if src.File != "" {
		return src.File, nil
	}
	p, err := DefaultRootKeyFile()
	if err != nil && src.Fallback != "" {
		return src.Fallback, nil
	}
	return p, err
}

// Load returns the root key: from the environment when set, else from the
// key file, which is created on first use. A key file readable by group or
// others is refused.
func (src KeySource) Load(rnd io.Reader) ([]byte, error) {
	if name, ok := src.FromEnv(); ok {
		v, _ := src.Lookup(name)
		k, err := decodeRootKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return k, nil
	}
	path, err := src.Path()
	if err != nil {
		return nil, err
	}
	k, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createRootKey(path, rnd)
	}
	return k, err
}

// readKeyFile reads a base64 key file that only its owner may read.
func readKeyFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: %s has mode %v; it must not be readable by group or others (chmod 600)", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	k, err := decodeRootKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// NewRootKey returns 32 random bytes and their base64 text, for a root
// key rotation.
func NewRootKey(rnd io.Reader) ([]byte, string, error) {
	k := make([]byte, 32)
	if _, err := io.ReadFull(rnd, k); err != nil {
		return nil, "", err
	}
	return k, base64.StdEncoding.EncodeToString(k), nil
}

func decodeRootKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("root key is not standard base64")
	}
	if len(k) != 32 {
		clear(k)
		return nil, fmt.Errorf("root key has %d bytes, want 32", len(k))
	}
	return k, nil
}

// createRootKey writes a new key file with atomicfile.Create, whose final
// hard link fails if another process created the file first, so a crash
// never leaves a truncated key and two first starts agree on one key.
func createRootKey(path string, rnd io.Reader) ([]byte, error) {
	k, text, err := NewRootKey(rnd)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return installRootKey(path, text)
}

// installRootKey creates the key file with text unless it exists, and
// returns the key the file holds afterwards.
func installRootKey(path, text string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.Create(path, []byte(text+"\n"), 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	// Ours, or the one another process created first.
	return readKeyFile(path)
}

// ReplaceRootKeyFile writes a root key (base64 text, as NewRootKey returns
// it) to path atomically (temp file, fsync, rename), mode 0600, for a root
// key rotation.
func ReplaceRootKeyFile(path, text string) error {
	return atomicfile.WriteFile(path, []byte(text+"\n"), 0o600)
}
