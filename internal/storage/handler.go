package storage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/identity"
)

// PathPrefix is where the path form of the Table service sits on
// Steward's main port: https://HOST:PORT/tables/{account}/...
const PathPrefix = "/tables/"

// maxBodyBytes caps a request body: a batch may carry 4 MiB, an entity
// 1 MiB (its JSON a little more).
const maxBodyBytes = 4 << 20

// TokenValidator validates an Entra bearer token for the storage
// audience (an *identity.Validator).
type TokenValidator interface {
	Validate(ctx context.Context, raw string) (identity.Principal, error)
}

// HandlerOptions configure the Table service's HTTP handler.
type HandlerOptions struct {
	// Validator checks bearer tokens; nil refuses them.
	Validator TokenValidator
	// Authorize decides what a token's principal may do.
	Authorize Authorizer
	// ResolveHost maps a request's host (such as
	// "acct.table.core.windows.net") to an account name, for the host
	// form; nil serves the path form only.
	ResolveHost func(host string) (account string, ok bool)
	// AuthorityURL is the token service named in 401 challenges.
	AuthorityURL string
	// Logger receives failures; never keys, signatures or tokens.
	Logger *slog.Logger
}

// Handler serves the Table service REST API.
type Handler struct {
	svc  *Service
	opts HandlerOptions
	now  func() time.Time
	log  *slog.Logger
}

// Handler returns the HTTP handler of the Table service.
func (s *Service) Handler(opts HandlerOptions) *Handler {
	log := opts.Logger
	if log == nil {
		log = s.log
	}
	return &Handler{svc: s, opts: opts, now: s.now, log: log}
}

// Matches reports whether r is for the Table service: a path under
// PathPrefix, or a host ResolveHost knows.
func (h *Handler) Matches(r *http.Request) bool {
	if _, ok := h.hostAccount(r); ok {
		return true
	}
	return strings.HasPrefix(strings.ToLower(r.URL.Path), PathPrefix)
}

func (h *Handler) hostAccount(r *http.Request) (string, bool) {
	if h.opts.ResolveHost == nil {
		return "", false
	}
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return h.opts.ResolveHost(strings.ToLower(host))
}

// request is one call to the service, as the operations see it.
type request struct {
	r       *http.Request
	w       http.ResponseWriter
	account Account
	caller  caller
	// path is the request path below the account ("/Tables",
	// "/mytable(PartitionKey='a',RowKey='b')", "/$batch").
	path string
	// base is the account's service URL as the client reached it.
	base string
	id   string
	md   metadata
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	hd := w.Header()
	hd.Set("x-ms-request-id", reqID)
	if id := r.Header.Get("x-ms-client-request-id"); id != "" && len(id) <= 1024 {
		hd.Set("x-ms-client-request-id", id)
	}
	v := r.Header.Get("x-ms-version")
	if v == "" {
		v = SASVersion
	}
	hd.Set("x-ms-version", v)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-cache")
	if err := h.serve(w, r, reqID); err != nil {
		var se *Error
		if !errors.As(err, &se) {
			if r.Context().Err() == nil {
				h.log.Error("table service request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			se = &Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "The server encountered an internal error. Please retry the request."}
		}
		if se.Status == http.StatusUnauthorized && h.opts.AuthorityURL != "" {
			hd.Set("WWW-Authenticate", "Bearer authorization_uri="+h.opts.AuthorityURL+" resource_id=https://storage.azure.com")
		}
		writeError(w, reqID, se, h.now())
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, reqID string) error {
	name, path, base, err := h.split(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	acct, err := h.svc.acc.get(r.Context(), name)
	if errors.Is(err, ErrNoAccount) {
		return errAccountNotFound
	}
	if err != nil {
		return err
	}
	if acct.HTTPSOnly && r.TLS == nil && !strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return errorf(http.StatusBadRequest, "AccountRequiresHttps", "The account being accessed does not support http.")
	}
	c, aerr := h.authenticate(r, acct)
	if aerr != nil {
		return aerr
	}
	req := &request{r: r, w: w, account: acct, caller: c, path: path, base: base, id: reqID,
		md: parseAccept(r.Header.Get("Accept"), r.URL.Query().Get("$format"))}
	return h.route(req)
}

// split finds the account, the path below it and the service URL.
func (h *Handler) split(r *http.Request) (account, path, base string, err error) {
	scheme := "https"
	if r.TLS == nil && !strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "http"
	}
	p := r.URL.Path
	if a, ok := h.hostAccount(r); ok {
		return a, p, scheme + "://" + r.Host, nil
	}
	rest := p[len(PathPrefix):]
	account, path, _ = strings.Cut(rest, "/")
	if !validAccountName(account) {
		return "", "", "", errAccountNotFound
	}
	return account, "/" + path, scheme + "://" + r.Host + p[:len(PathPrefix)] + account, nil
}

// validAccountName checks Azure's rule: 3 to 24 lower-case letters and
// digits.
func validAccountName(s string) bool {
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

// ValidAccountName reports whether s is a valid storage account name.
func ValidAccountName(s string) bool { return validAccountName(s) }

// route dispatches on the path below the account.
func (h *Handler) route(req *request) error {
	r := req.r
	p := req.path
	method := r.Method
	if method == http.MethodPost {
		if m := r.Header.Get("X-HTTP-Method"); m != "" {
			method = strings.ToUpper(m)
		}
	}
	q := r.URL.Query()
	switch {
	case p == "/" || p == "":
		return errorf(http.StatusBadRequest, "UnsupportedQueryParameter", "The service properties and statistics of the Table service are not supported by Steward.")
	case p == "/$batch":
		if method != http.MethodPost {
			return unsupportedVerb()
		}
		return h.batch(req)
	case strings.EqualFold(p, "/Tables") || strings.EqualFold(p, "/Tables()"):
		switch method {
		case http.MethodGet:
			return h.queryTables(req)
		case http.MethodPost:
			return h.createTable(req)
		}
		return unsupportedVerb()
	case len(p) > 8 && strings.EqualFold(p[:8], "/Tables("):
		name, ok := parseTableKey(p[7:])
		if !ok {
			return invalidInput("The table name in the URL is not valid.")
		}
		switch method {
		case http.MethodDelete:
			return h.deleteTable(req, name)
		case http.MethodGet:
			return h.getTable(req, name)
		}
		return unsupportedVerb()
	}
	table, keys, hasKeys, err := parseEntityPath(p)
	if err != nil {
		return err
	}
	if q.Get("comp") == "acl" {
		switch method {
		case http.MethodGet, http.MethodHead:
			return h.getACL(req, table)
		case http.MethodPut:
			return h.setACL(req, table)
		}
		return unsupportedVerb()
	}
	if !hasKeys {
		switch method {
		case http.MethodGet:
			return h.queryEntities(req, table)
		case http.MethodPost:
			return h.insertEntity(req, table)
		}
		return unsupportedVerb()
	}
	switch method {
	case http.MethodGet:
		return h.getEntity(req, table, keys)
	case http.MethodPut:
		return h.writeEntity(req, table, keys, true)
	case "MERGE", http.MethodPatch:
		return h.writeEntity(req, table, keys, false)
	case http.MethodDelete:
		return h.deleteEntity(req, table, keys)
	}
	return unsupportedVerb()
}

func unsupportedVerb() *Error {
	return errorf(http.StatusMethodNotAllowed, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.")
}

// parseTableKey reads "('name')".
func parseTableKey(s string) (string, bool) {
	if !strings.HasPrefix(s, "('") || !strings.HasSuffix(s, "')") || len(s) < 5 {
		return "", false
	}
	return s[2 : len(s)-2], true
}

// parseEntityPath reads "/table", "/table()" and
// "/table(PartitionKey='pk',RowKey='rk')".
func parseEntityPath(p string) (table string, keys [2]string, hasKeys bool, err error) {
	p = strings.TrimPrefix(p, "/")
	i := strings.IndexByte(p, '(')
	if i < 0 {
		return p, keys, false, checkTableName(p)
	}
	table = p[:i]
	if err := checkTableName(table); err != nil {
		return "", keys, false, err
	}
	pred := p[i:]
	if pred == "()" {
		return table, keys, false, nil
	}
	if !strings.HasSuffix(pred, ")") {
		return "", keys, false, invalidInput("The entity key predicate in the URL is not valid.")
	}
	rest := pred[1 : len(pred)-1]
	for n, name := range []string{"PartitionKey", "RowKey"} {
		if n == 1 {
			if !strings.HasPrefix(rest, ",") {
				return "", keys, false, invalidInput("The entity key predicate in the URL is not valid.")
			}
			rest = rest[1:]
		}
		if !strings.HasPrefix(rest, name+"='") {
			return "", keys, false, invalidInput("The entity key predicate in the URL is not valid.")
		}
		rest = rest[len(name)+2:]
		var b strings.Builder
		closed := false
		for len(rest) > 0 {
			if rest[0] == '\'' {
				if len(rest) > 1 && rest[1] == '\'' {
					b.WriteByte('\'')
					rest = rest[2:]
					continue
				}
				rest = rest[1:]
				closed = true
				break
			}
			b.WriteByte(rest[0])
			rest = rest[1:]
		}
		if !closed {
			return "", keys, false, invalidInput("The entity key predicate in the URL is not valid.")
		}
		keys[n] = b.String()
	}
	if rest != "" {
		return "", keys, false, invalidInput("The entity key predicate in the URL is not valid.")
	}
	return table, keys, true, nil
}

// checkTableName enforces the service's naming rule: 3 to 63 letters and
// digits, starting with a letter, and not "tables".
func checkTableName(n string) error {
	if len(n) < 3 || len(n) > 63 || strings.EqualFold(n, "tables") {
		return errBadTableName
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return errBadTableName
		}
	}
	return nil
}

// readBody reads the capped request body.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible limit.")
		}
		return nil, invalidInput("The request body could not be read.")
	}
	return b, nil
}

// wantsContent reads the Prefer header: return-content is the default for
// inserts.
func wantsContent(r *http.Request) bool {
	return !strings.Contains(strings.ToLower(r.Header.Get("Prefer")), "return-no-content")
}

// encodeContinuation makes an opaque continuation value of a key.
func encodeContinuation(s string) string {
	return "1!" + url.QueryEscape(s)
}

// decodeContinuation reads what encodeContinuation wrote.
func decodeContinuation(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, "1!")
	if !ok {
		return "", invalidInput("The continuation token is not valid.")
	}
	v, err := url.QueryUnescape(rest)
	if err != nil {
		return "", invalidInput("The continuation token is not valid.")
	}
	return v, nil
}
