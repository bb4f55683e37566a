package vault

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// op is a routed request: the data action it needs, the object it acts
// on (for the authorization scope), where its body goes, and what runs.
type op struct {
	// name is Key Vault's operation name in the audit log (SecretGet).
	name   string
	action string
	kind   kind
	object string
	body   any
	run    func(ctx context.Context, c *call) (int, any, error)
}

func ok(v any, err error) (int, any, error) { return http.StatusOK, v, err }

// route maps a method and a path inside a vault to an operation.
func route(method, rest string) (*op, error) {
	segs := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	if len(segs) == 0 || segs[0] == "" {
		return nil, badParameter("The request path names no collection.")
	}
	var o *op
	switch strings.ToLower(segs[0]) {
	case "secrets":
		o = secretRoute(method, segs[1:])
	case "deletedsecrets":
		o = deletedRoute(kindSecret, method, segs[1:])
	case "keys":
		o = keyRoute(method, segs[1:])
	case "deletedkeys":
		o = deletedRoute(kindKey, method, segs[1:])
	case "certificates":
		o = certRoute(method, segs[1:])
	case "deletedcertificates":
		o = deletedRoute(kindCert, method, segs[1:])
	}
	if o == nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "BadParameter", Message: "The operation " + method + " " + rest + " is not supported by this vault."}
	}
	if o.object != "" && !validName(o.object) {
		return nil, badParameter("The object name %q is invalid: use 1 to 127 letters, digits and hyphens.", o.object)
	}
	return o, nil
}

func secretRoute(method string, s []string) *op {
	k := kindSecret
	switch {
	case len(s) == 0 && method == http.MethodGet:
		return listOp("SecretList", k.dataAction("readMetadata/action"), k, "", func(ctx context.Context, c *call, after string, limit int) (any, string, error) {
			return anyList(c.svc.ListSecrets(ctx, c.v, after, limit))
		})
	case len(s) == 1 && method == http.MethodPut:
		var p SecretSetParams
		return &op{name: "SecretSet", action: k.dataAction("setSecret/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.SetSecret(ctx, c.v, s[0], p))
		}}
	case len(s) == 1 && method == http.MethodDelete:
		return &op{name: "SecretDelete", action: k.dataAction("delete"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.DeleteSecret(ctx, c.v, s[0]))
		}}
	case len(s) == 2 && strings.EqualFold(s[1], "versions") && method == http.MethodGet:
		return listOp("SecretListVersions", k.dataAction("readMetadata/action"), k, s[0], func(ctx context.Context, c *call, after string, limit int) (any, string, error) {
			return anyList(c.svc.ListSecretVersions(ctx, c.v, s[0], after, limit))
		})
	case (len(s) == 1 || len(s) == 2) && method == http.MethodGet:
		return &op{name: "SecretGet", action: k.dataAction("getSecret/action"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.GetSecret(ctx, c.v, s[0], at(s, 1)))
		}}
	case (len(s) == 1 || len(s) == 2) && method == http.MethodPatch:
		var p UpdateParams
		return &op{name: "SecretUpdate", action: k.dataAction("update/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.UpdateSecret(ctx, c.v, s[0], at(s, 1), p))
		}}
	}
	return nil
}

// keyOperations maps the path of a key operation to its key_ops name,
// data action and audit operation name.
var keyOperations = map[string][3]string{
	"sign": {"sign", "sign/action", "KeySign"}, "verify": {"verify", "verify/action", "KeyVerify"},
	"encrypt": {"encrypt", "encrypt/action", "KeyEncrypt"}, "decrypt": {"decrypt", "decrypt/action", "KeyDecrypt"},
	"wrapkey": {"wrapKey", "wrap/action", "KeyWrap"}, "unwrapkey": {"unwrapKey", "unwrap/action", "KeyUnwrap"},
}

func keyRoute(method string, s []string) *op {
	k := kindKey
	switch {
	case len(s) == 0 && method == http.MethodGet:
		return listOp("KeyList", k.dataAction("read"), k, "", func(ctx context.Context, c *call, after string, limit int) (any, string, error) {
			return anyList(c.svc.ListKeys(ctx, c.v, after, limit))
		})
	case len(s) == 1 && method == http.MethodPut:
		var p KeyImportParams
		return &op{name: "KeyImport", action: k.dataAction("import/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.ImportKey(ctx, c.v, s[0], p))
		}}
	case len(s) == 1 && method == http.MethodDelete:
		return &op{name: "KeyDelete", action: k.dataAction("delete"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.DeleteKey(ctx, c.v, s[0]))
		}}
	case len(s) == 2 && strings.EqualFold(s[1], "create") && method == http.MethodPost:
		var p KeyCreateParams
		return &op{name: "KeyCreate", action: k.dataAction("create/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.CreateKey(ctx, c.v, s[0], p))
		}}
	case len(s) == 2 && strings.EqualFold(s[1], "rotate") && method == http.MethodPost:
		return &op{name: "KeyRotate", action: k.dataAction("rotate/action"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.RotateKey(ctx, c.v, s[0]))
		}}
	case len(s) == 2 && strings.EqualFold(s[1], "rotationpolicy") && method == http.MethodGet:
		return &op{name: "KeyRotationPolicyGet", action: "Microsoft.KeyVault/vaults/keyrotationpolicies/read", kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.GetRotationPolicy(ctx, c.v, s[0]))
		}}
	case len(s) == 2 && strings.EqualFold(s[1], "rotationpolicy") && method == http.MethodPut:
		var p KeyRotationPolicy
		return &op{name: "KeyRotationPolicyUpdate", action: "Microsoft.KeyVault/vaults/keyrotationpolicies/write", kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.SetRotationPolicy(ctx, c.v, s[0], p))
		}}
	case len(s) == 2 && strings.EqualFold(s[1], "versions") && method == http.MethodGet:
		return listOp("KeyListVersions", k.dataAction("read"), k, s[0], func(ctx context.Context, c *call, after string, limit int) (any, string, error) {
			return anyList(c.svc.ListKeyVersions(ctx, c.v, s[0], after, limit))
		})
	case (len(s) == 1 || len(s) == 2) && method == http.MethodGet:
		return &op{name: "KeyGet", action: k.dataAction("read"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.GetKey(ctx, c.v, s[0], at(s, 1)))
		}}
	case (len(s) == 1 || len(s) == 2) && method == http.MethodPatch:
		var p UpdateParams
		return &op{name: "KeyUpdate", action: k.dataAction("update/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.UpdateKey(ctx, c.v, s[0], at(s, 1), p))
		}}
	case (len(s) == 2 || len(s) == 3) && method == http.MethodPost:
		// POST keys/{name}/{op} uses the current version, as does an empty
		// version segment.
		if len(s) == 2 {
			s = []string{s[0], "", s[1]}
		}
		names, found := keyOperations[strings.ToLower(s[2])]
		if !found {
			return nil
		}
		if names[0] == "verify" {
			var p KeyVerifyParams
			return &op{name: names[2], action: k.dataAction(names[1]), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
				return ok(c.svc.Verify(ctx, c.v, s[0], s[1], p))
			}}
		}
		var p KeyOperationParams
		return &op{name: names[2], action: k.dataAction(names[1]), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			if names[0] == "sign" {
				return ok(c.svc.Sign(ctx, c.v, s[0], s[1], p))
			}
			return ok(c.svc.Crypt(ctx, c.v, s[0], s[1], names[0], p))
		}}
	}
	return nil
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// page reads maxresults (1 to 25, default 25) and $skiptoken.
func (c *call) page() (string, int, error) {
	q := c.r.URL.Query()
	limit := 25
	if m := q.Get("maxresults"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 25 {
			return "", 0, badParameter("maxresults must be an integer between 1 and 25.")
		}
		limit = n
	}
	return q.Get("$skiptoken"), limit, nil
}

// list renders a page with its nextLink.
func (c *call) list(items any, next string, limit int) any {
	var link *string
	if next != "" {
		q := url.Values{}
		q.Set("api-version", c.apiVersion)
		q.Set("$skiptoken", next)
		q.Set("maxresults", strconv.Itoa(limit))
		l := c.v.URL + c.path + "?" + q.Encode()
		link = &l
	}
	return struct {
		Value    any     `json:"value"`
		NextLink *string `json:"nextLink"`
	}{items, link}
}

// listOp is a paged list operation.
func listOp(name, action string, k kind, object string, list func(ctx context.Context, c *call, after string, limit int) (any, string, error)) *op {
	return &op{name: name, action: action, kind: k, object: object, run: func(ctx context.Context, c *call) (int, any, error) {
		after, limit, err := c.page()
		if err != nil {
			return 0, nil, err
		}
		items, next, err := list(ctx, c, after, limit)
		return ok(c.list(items, next, limit), err)
	}}
}

// anyList adapts a typed page to listOp, with [] rather than null for an
// empty page.
func anyList[T any](items []T, next string, err error) (any, string, error) {
	if items == nil {
		items = []T{}
	}
	return items, next, err
}
