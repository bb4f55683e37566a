package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// Store tables. Resource documents are keyed by their lower-cased ID, so a
// prefix scan of an ID lists what sits below it (a resource group's
// resources, a resource's children and extensions); the type index keys
// "{type}|{id}" (lower case) list a type within a scope.
const (
	tableResources  = "cloud.resources"
	tableTypes      = "cloud.types"
	tableActivity   = "cloud.activity"
	tableOperations = "cloud.operations"
)

// maxIDLen keeps IDs, and the type-index keys built from them, inside the
// store's key limit.
const maxIDLen = 800

// Resource is a stored resource document with its store metadata.
type Resource struct {
	ID   string
	Type string
	// Doc is the ARM representation (id, name, type, location, tags,
	// properties, ...) as the API returns it, without etag.
	Doc     map[string]any
	ETag    string
	Created time.Time
	Updated time.Time
}

// stored is the value a resource is kept as.
type stored struct {
	ID   string         `json:"id"`
	Type string         `json:"type"`
	Doc  map[string]any `json:"doc"`
}

func resKey(id string) string { return strings.ToLower(strings.TrimRight(id, "/")) }

func typeIndexKey(typ, id string) string { return typeKey(typ) + "|" + resKey(id) }

// quoteETag turns a store etag into the HTTP form ARM uses.
func quoteETag(e string) string { return `"` + e + `"` }

// unquoteETag accepts W/"x", "x" and x.
func unquoteETag(e string) string {
	e = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(e), "W/"))
	return strings.Trim(e, `"`)
}

func decodeResource(rec store.Record) (Resource, error) {
	var s stored
	if err := decodeJSON(rec.Value, &s); err != nil {
		return Resource{}, err
	}
	if s.Doc == nil {
		s.Doc = map[string]any{}
	}
	return Resource{ID: s.ID, Type: s.Type, Doc: s.Doc, ETag: rec.ETag, Created: rec.Created, Updated: rec.Updated}, nil
}

func getResource(ctx context.Context, tx store.Tx, id string) (Resource, error) {
	rec, err := tx.Get(ctx, tableResources, resKey(id))
	if err != nil {
		return Resource{}, err
	}
	return decodeResource(rec)
}

// putResource writes r under cond and keeps the type index in step.
func putResource(ctx context.Context, tx store.Tx, r Resource, cond store.Cond) (Resource, error) {
	b, err := json.Marshal(stored{ID: r.ID, Type: r.Type, Doc: r.Doc})
	if err != nil {
		return Resource{}, err
	}
	rec, err := tx.Put(ctx, tableResources, resKey(r.ID), b, cond)
	if err != nil {
		return Resource{}, err
	}
	if _, err := tx.Put(ctx, tableTypes, typeIndexKey(r.Type, r.ID), []byte("1"), store.Cond{}); err != nil {
		return Resource{}, err
	}
	r.ETag, r.Created, r.Updated = rec.ETag, rec.Created, rec.Updated
	return r, nil
}

func deleteResource(ctx context.Context, tx store.Tx, r Resource, cond store.Cond) error {
	if err := tx.Delete(ctx, tableResources, resKey(r.ID), cond); err != nil {
		return err
	}
	if err := tx.Delete(ctx, tableTypes, typeIndexKey(r.Type, r.ID), store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// StoredResource is a resource as the store keeps it, not yet decoded:
// for readers that decide from the stored bytes whether they need the
// document at all (the compliance scan compares a digest of them).
type StoredResource struct {
	// Key is the lower-case ID; Value the stored bytes.
	store.Record
}

// Decode returns the resource.
func (s StoredResource) Decode() (Resource, error) { return decodeResource(s.Record) }

// Type is the resource's type, read from the front of the stored bytes
// (putResource writes id, then type) without decoding the document.
func (s StoredResource) Type() string {
	v := s.Value
	const lead, mid = `{"id":"`, `,"type":"`
	if bytes.HasPrefix(v, []byte(lead)) {
		i := len(lead)
		for i < len(v) && v[i] != '"' {
			if v[i] == '\\' {
				i++
			}
			i++
		}
		if i < len(v) && bytes.HasPrefix(v[i+1:], []byte(mid)) {
			t := v[i+1+len(mid):]
			if j := bytes.IndexByte(t, '"'); j >= 0 && bytes.IndexByte(t[:j], '\\') < 0 {
				return string(t[:j])
			}
		}
	}
	var st struct {
		Type string `json:"type"`
	}
	_ = decodeJSON(v, &st)
	return st.Type
}

// ListStored is List of the stored forms: one page of what sits below
// q.Scope, in key order, undecoded; with q.Type, of that type only,
// through the type index (in the index's order). q.Keep is not supported.
func (c *Cloud) ListStored(ctx context.Context, q ListQuery) ([]StoredResource, string, error) {
	if q.Keep != nil {
		return nil, "", errors.New("cloud: ListStored lists without a filter")
	}
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	var out []StoredResource
	var next string
	err := c.store.View(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		if q.Type != "" {
			prefix := typeKey(q.Type) + "|" + resKey(q.Scope)
			if q.Scope != "" && q.Scope != "/" {
				prefix += "/"
			}
			page, err := tx.Scan(ctx, tableTypes, store.Query{Prefix: prefix, Limit: q.Limit, After: q.After, KeysOnly: true})
			if err != nil {
				return err
			}
			next = page.Next
			ids := make([]string, len(page.Records))
			for i, k := range page.Records {
				ids[i] = k.Key[strings.IndexByte(k.Key, '|')+1:]
			}
			recs, err := store.GetMany(ctx, tx, tableResources, ids)
			if err != nil {
				return err
			}
			// The index's order is the IDs' order: GetMany's.
			out = make([]StoredResource, len(recs))
			for i, rec := range recs {
				out[i] = StoredResource{rec}
			}
			return nil
		}
		page, err := tx.Scan(ctx, tableResources, store.Query{Prefix: resKey(q.Scope) + "/", Limit: q.Limit, After: q.After})
		if err != nil {
			return err
		}
		out, next = make([]StoredResource, len(page.Records)), page.Next
		for i, rec := range page.Records {
			out[i] = StoredResource{rec}
		}
		return nil
	})
	return out, next, err
}

// GetStored reads the stored forms of the resources with these IDs, in
// key order; IDs not stored are left out.
func (c *Cloud) GetStored(ctx context.Context, ids []string) ([]StoredResource, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = resKey(id)
	}
	var out []StoredResource
	err := c.store.View(ctx, func(tx store.Tx) error {
		recs, err := store.GetMany(ctx, tx, tableResources, keys)
		out = make([]StoredResource, len(recs))
		for i, rec := range recs {
			out[i] = StoredResource{rec}
		}
		return err
	})
	return out, err
}

// Get reads one resource by ID; a missing one is an error matching
// store.ErrNotFound.
func (c *Cloud) Get(ctx context.Context, id string) (Resource, error) {
	var r Resource
	err := c.store.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = getResource(ctx, tx, id)
		return err
	})
	return r, err
}

// Exists reports whether a resource (or scope document) with id is stored.
func (c *Cloud) Exists(ctx context.Context, id string) (bool, error) {
	_, err := c.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ListQuery selects resources for List.
type ListQuery struct {
	// Type, when set, lists that type through the type index; Scope is then
	// a prefix of the IDs ("" for all).
	Type string
	// Scope lists what sits below it (resources of a group, children of a
	// resource) when Type is empty.
	Scope string
	// Keep, when set, filters the documents.
	Keep func(Resource) bool
	// Limit is the page size (0: DefaultPageSize); After is a
	// continuation token from a previous page.
	Limit int
	After string
}

// List returns one page of resources and the token of the next page ("" at
// the end). With Keep the page may hold fewer than Limit items while a next
// page exists.
func (c *Cloud) List(ctx context.Context, q ListQuery) ([]Resource, string, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	var out []Resource
	var next string
	err := c.store.View(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		table, prefix := tableResources, resKey(q.Scope)+"/"
		if q.Type != "" {
			table, prefix = tableTypes, typeKey(q.Type)+"|"+resKey(q.Scope)
			if q.Scope != "" && q.Scope != "/" {
				prefix += "/"
			}
		}
		page, err := tx.Scan(ctx, table, store.Query{Prefix: prefix, Limit: q.Limit, After: q.After, KeysOnly: q.Type != ""})
		if err != nil {
			return err
		}
		next = page.Next
		for _, rec := range page.Records {
			var r Resource
			if q.Type != "" {
				id := rec.Key[strings.IndexByte(rec.Key, '|')+1:]
				r, err = getResource(ctx, tx, id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
			} else {
				r, err = decodeResource(rec)
			}
			if err != nil {
				return err
			}
			if q.Keep == nil || q.Keep(r) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, next, err
}

// storeError maps a store error to the ARM error a client sees.
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrPrecondition), errors.Is(err, store.ErrExists):
		return preconditionFailed()
	case errors.Is(err, store.ErrInvalid):
		return arm.BadRequest("InvalidRequestContent", "The request is invalid: a name, ID or continuation token is malformed or too long.")
	case errors.Is(err, store.ErrConflict):
		return arm.Errorf(http.StatusConflict, "Conflict", "The request conflicted with concurrent changes. Retry the request.")
	}
	var ae *arm.Error
	if errors.As(err, &ae) {
		return ae
	}
	return err
}

func preconditionFailed() *arm.Error {
	return arm.Errorf(http.StatusPreconditionFailed, "PreconditionFailed",
		"The condition specified using HTTP conditional header(s) is not met.")
}
