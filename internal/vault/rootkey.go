package vault

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

// RootKeyEnv is the environment variable that carries the root key
// (standard base64 of 32 bytes). When set it wins over the file.
const RootKeyEnv = "STEWARD_VAULT_ROOT_KEY"

// RootKeyFile is the name of the root key file in the data directory.
const RootKeyFile = "vault-root.key"

// LoadRootKey returns the vault's root key: from the environment variable
// RootKeyEnv when lookup finds it, else from DATA/vault-root.key, which is
// created (32 random bytes, base64, mode 0600, written atomically) on first
// start. A key file readable by group or others is refused.
func LoadRootKey(dataDir string, lookup func(string) (string, bool), rnd io.Reader) ([]byte, error) {
	if lookup != nil {
		if v, ok := lookup(RootKeyEnv); ok && strings.TrimSpace(v) != "" {
			k, err := decodeRootKey(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", RootKeyEnv, err)
			}
			return k, nil
		}
	}
	path := filepath.Join(dataDir, RootKeyFile)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createRootKey(path, rnd)
	} else if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("vault: %s has mode %v; it must not be readable by group or others (chmod 600)", path, st.Mode().Perm())
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

// NewRootKey returns 32 random bytes and their base64 text, for
// `steward vault root-key new` and for rotating STEWARD_VAULT_ROOT_KEY.
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
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.Create(path, []byte(text+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first: use theirs.
			return LoadRootKey(filepath.Dir(path), nil, rnd)
		}
		return nil, err
	}
	return k, nil
}

// ReplaceRootKeyFile writes a root key (base64 text, as NewRootKey returns
// it) to DATA/vault-root.key atomically (temp file, fsync, rename), mode
// 0600, for a root key rotation.
func ReplaceRootKeyFile(dataDir, text string) error {
	return atomicfile.WriteFile(filepath.Join(dataDir, RootKeyFile), []byte(text+"\n"), 0o600)
}
