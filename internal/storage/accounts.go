package storage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Sealer encrypts values for a storage path and decrypts them; the vault's
// Sealer is one. Values sealed for one path do not open for another.
type Sealer interface {
	Seal(path string, plain []byte) ([]byte, error)
	Open(ctx context.Context, path string, sealed []byte) ([]byte, error)
}

// tableAccounts holds the accounts the data plane knows, keyed by name.
const tableAccounts = "storage.accounts"

// KeyNames are the names of an account's two access keys.
var KeyNames = [2]string{"key1", "key2"}

// Key is one of an account's access keys.
type Key struct {
	Name    string
	Value   string
	Created time.Time
}

// Account is a storage account as the data plane sees it: its name, the
// ARM resource it belongs to, its settings and its two keys.
type Account struct {
	Name       string
	ResourceID string
	// AllowSharedKeyAccess false refuses SharedKey, SharedKeyLite and SAS
	// signed with the keys; only Entra tokens are accepted.
	AllowSharedKeyAccess bool
	// HTTPSOnly refuses requests that arrived over plain HTTP.
	HTTPSOnly bool
	Keys      [2]Key
}

// Settings are what an account's ARM resource decides for its data plane.
type Settings struct {
	ResourceID           string
	AllowSharedKeyAccess bool
	HTTPSOnly            bool
}

type storedKey struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Sealed  []byte    `json:"sealed"`
}

type storedAccount struct {
	Name                 string       `json:"name"`
	ResourceID           string       `json:"resourceId"`
	AllowSharedKeyAccess bool         `json:"allowSharedKeyAccess"`
	HTTPSOnly            bool         `json:"httpsOnly"`
	Keys                 [2]storedKey `json:"keys"`
}

// ErrAccountTaken is returned when an account name belongs to another
// resource: storage account names are unique across the cloud.
var ErrAccountTaken = errors.New("storage: the account name is taken")

// ErrNoAccount is returned for an account the data plane does not know.
var ErrNoAccount = errors.New("storage: no such account")

// accounts reads and writes account records, sealing keys, and caches the
// opened keys by record ETag so that a request costs one store read.
type accounts struct {
	st     store.Store
	sealer Sealer
	rnd    io.Reader
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedAccount
}

type cachedAccount struct {
	etag string
	acct Account
}

func keyPath(name, key string) string { return tableAccounts + "/" + name + "/" + key }

func (a *accounts) newKey(name, keyName string) (storedKey, error) {
	raw := make([]byte, 64)
	if _, err := io.ReadFull(a.rnd, raw); err != nil {
		return storedKey{}, err
	}
	// Azure's keys are 64 random bytes in base64 (88 characters).
	val := []byte(base64.StdEncoding.EncodeToString(raw))
	clear(raw)
	sealed, err := a.sealer.Seal(keyPath(name, keyName), val)
	clear(val)
	if err != nil {
		return storedKey{}, err
	}
	return storedKey{Name: keyName, Created: a.now().UTC(), Sealed: sealed}, nil
}

// ensure creates the account with fresh keys, or updates its settings.
func (a *accounts) ensure(ctx context.Context, name string, s Settings) (created bool, err error) {
	name = strings.ToLower(name)
	err = a.st.Update(ctx, func(tx store.Tx) error {
		created = false
		rec, err := tx.Get(ctx, tableAccounts, name)
		var sa storedAccount
		switch {
		case errors.Is(err, store.ErrNotFound):
			created = true
			sa = storedAccount{Name: name}
			for i, kn := range KeyNames {
				if sa.Keys[i], err = a.newKey(name, kn); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(rec.Value, &sa); err != nil {
				return err
			}
			if !strings.EqualFold(sa.ResourceID, s.ResourceID) {
				return ErrAccountTaken
			}
		}
		sa.ResourceID, sa.AllowSharedKeyAccess, sa.HTTPSOnly = s.ResourceID, s.AllowSharedKeyAccess, s.HTTPSOnly
		b, _ := json.Marshal(sa)
		_, err = tx.Put(ctx, tableAccounts, name, b, store.Cond{})
		return err
	})
	return created, err
}

// get returns the account with its keys opened.
func (a *accounts) get(ctx context.Context, name string) (Account, error) {
	name = strings.ToLower(name)
	var rec store.Record
	err := a.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Get(ctx, tableAccounts, name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, ErrNoAccount
	}
	if err != nil {
		return Account{}, err
	}
	a.mu.Lock()
	c, ok := a.cache[name]
	a.mu.Unlock()
	if ok && c.etag == rec.ETag {
		return c.acct, nil
	}
	var sa storedAccount
	if err := json.Unmarshal(rec.Value, &sa); err != nil {
		return Account{}, err
	}
	acct := Account{Name: sa.Name, ResourceID: sa.ResourceID, AllowSharedKeyAccess: sa.AllowSharedKeyAccess, HTTPSOnly: sa.HTTPSOnly}
	for i, k := range sa.Keys {
		plain, err := a.sealer.Open(ctx, keyPath(name, k.Name), k.Sealed)
		if err != nil {
			return Account{}, fmt.Errorf("storage: open key %s of %s: %w", k.Name, name, err)
		}
		acct.Keys[i] = Key{Name: k.Name, Value: string(plain), Created: k.Created}
	}
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[string]cachedAccount{}
	}
	a.cache[name] = cachedAccount{etag: rec.ETag, acct: acct}
	a.mu.Unlock()
	return acct, nil
}

// regenerate replaces one key with a fresh one.
func (a *accounts) regenerate(ctx context.Context, name, keyName string) error {
	name = strings.ToLower(name)
	idx := -1
	for i, kn := range KeyNames {
		if strings.EqualFold(kn, keyName) {
			idx = i
		}
	}
	if idx < 0 {
		return errorf(http.StatusBadRequest, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: keyName.")
	}
	return a.st.Update(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableAccounts, name)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoAccount
		}
		if err != nil {
			return err
		}
		var sa storedAccount
		if err := json.Unmarshal(rec.Value, &sa); err != nil {
			return err
		}
		if sa.Keys[idx], err = a.newKey(name, KeyNames[idx]); err != nil {
			return err
		}
		b, _ := json.Marshal(sa)
		_, err = tx.Put(ctx, tableAccounts, name, b, store.IfMatch(rec.ETag))
		return err
	})
}

func (a *accounts) remove(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	err := a.st.Update(ctx, func(tx store.Tx) error {
		return tx.Delete(ctx, tableAccounts, name, store.Cond{})
	})
	a.mu.Lock()
	delete(a.cache, name)
	a.mu.Unlock()
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// defaultRand is the key randomness when none is injected.
var defaultRand io.Reader = rand.Reader
