package vault

import (
	"context"
	"net/http"
	"strings"
)

func certRoute(method string, s []string) *op {
	k := kindCert
	sub := ""
	if len(s) >= 2 {
		sub = strings.ToLower(s[1])
	}
	switch {
	case len(s) == 0 && method == http.MethodGet:
		return listOp("CertificateList", k.dataAction("read"), k, "", func(ctx context.Context, c *call, after string, limit int) (any, string, error) {
			return anyList(c.svc.ListCertificates(ctx, c.v, after, limit))
		})
	case len(s) == 1 && method == http.MethodDelete:
		return &op{name: "CertificateDelete", action: k.dataAction("delete"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.DeleteCertificate(ctx, c.v, s[0]))
		}}
	case len(s) == 2 && sub == "create" && method == http.MethodPost:
		var p CertificateCreateParams
		return &op{name: "CertificateCreate", action: k.dataAction("create/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			res, err := c.svc.CreateCertificate(ctx, c.v, s[0], p)
			return http.StatusAccepted, res, err
		}}
	case len(s) == 2 && sub == "import" && method == http.MethodPost:
		var p CertificateImportParams
		return &op{name: "CertificateImport", action: k.dataAction("import/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.ImportCertificate(ctx, c.v, s[0], p))
		}}
	case len(s) == 2 && sub == "versions" && method == http.MethodGet:
		return listOp("CertificateListVersions", k.dataAction("read"), k, s[0], func(ctx context.Context, c *call, after string, limit int) (any, string, error) {
			return anyList(c.svc.ListCertificateVersions(ctx, c.v, s[0], after, limit))
		})
	case len(s) == 2 && sub == "policy" && method == http.MethodGet:
		return &op{name: "CertificatePolicyGet", action: k.dataAction("read"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.GetCertificatePolicy(ctx, c.v, s[0]))
		}}
	case len(s) == 2 && sub == "policy" && method == http.MethodPatch:
		var p CertificatePolicy
		return &op{name: "CertificatePolicyUpdate", action: k.dataAction("update/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.UpdateCertificatePolicy(ctx, c.v, s[0], p))
		}}
	case len(s) == 2 && sub == "pending" && method == http.MethodGet:
		return &op{name: "CertificatePendingGet", action: k.dataAction("read"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.GetCertificateOperation(ctx, c.v, s[0]))
		}}
	case len(s) == 2 && sub == "pending" && method == http.MethodPatch:
		var p struct {
			Cancel bool `json:"cancellation_requested"`
		}
		return &op{name: "CertificatePendingUpdate", action: k.dataAction("update/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.CancelCertificateOperation(ctx, c.v, s[0], p.Cancel))
		}}
	case len(s) == 2 && sub == "pending" && method == http.MethodDelete:
		return &op{name: "CertificatePendingDelete", action: k.dataAction("delete"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.DeleteCertificateOperation(ctx, c.v, s[0]))
		}}
	case len(s) == 3 && sub == "pending" && strings.EqualFold(s[2], "merge") && method == http.MethodPost:
		var p CertificateMergeParams
		return &op{name: "CertificatePendingMerge", action: k.dataAction("create/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			res, err := c.svc.MergeCertificate(ctx, c.v, s[0], p)
			return http.StatusCreated, res, err
		}}
	case (len(s) == 1 || len(s) == 2) && method == http.MethodGet:
		return &op{name: "CertificateGet", action: k.dataAction("read"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.GetCertificate(ctx, c.v, s[0], at(s, 1)))
		}}
	case (len(s) == 1 || len(s) == 2) && method == http.MethodPatch:
		var p CertificateUpdateParams
		return &op{name: "CertificateUpdate", action: k.dataAction("update/action"), kind: k, object: s[0], body: &p, run: func(ctx context.Context, c *call) (int, any, error) {
			return ok(c.svc.UpdateCertificate(ctx, c.v, s[0], at(s, 1), p))
		}}
	}
	return nil
}

// deletedRoute serves /deleted{kind}: list, get, recover, purge.
func deletedRoute(k kind, method string, s []string) *op {
	read := k.dataAction("read")
	if k == kindSecret {
		read = k.dataAction("readMetadata/action")
	}
	switch {
	case len(s) == 0 && method == http.MethodGet:
		return listOp(k.auditName("ListDeleted"), read, k, "", func(ctx context.Context, c *call, after string, limit int) (any, string, error) {
			switch k {
			case kindSecret:
				return anyList(c.svc.ListDeletedSecrets(ctx, c.v, after, limit))
			case kindKey:
				return anyList(c.svc.ListDeletedKeys(ctx, c.v, after, limit))
			}
			return anyList(c.svc.ListDeletedCertificates(ctx, c.v, after, limit))
		})
	case len(s) == 1 && method == http.MethodGet:
		return &op{name: k.auditName("GetDeleted"), action: read, kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			switch k {
			case kindSecret:
				return ok(c.svc.GetDeletedSecret(ctx, c.v, s[0]))
			case kindKey:
				return ok(c.svc.GetDeletedKey(ctx, c.v, s[0]))
			}
			return ok(c.svc.GetDeletedCertificate(ctx, c.v, s[0]))
		}}
	case len(s) == 1 && method == http.MethodDelete:
		return &op{name: k.auditName("Purge"), action: k.dataAction("purge/action"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			var err error
			switch k {
			case kindSecret:
				err = c.svc.PurgeDeletedSecret(ctx, c.v, s[0])
			case kindKey:
				err = c.svc.PurgeDeletedKey(ctx, c.v, s[0])
			default:
				err = c.svc.PurgeDeletedCertificate(ctx, c.v, s[0])
			}
			return http.StatusNoContent, nil, err
		}}
	case len(s) == 2 && strings.EqualFold(s[1], "recover") && method == http.MethodPost:
		return &op{name: k.auditName("Recover"), action: k.dataAction("recover/action"), kind: k, object: s[0], run: func(ctx context.Context, c *call) (int, any, error) {
			switch k {
			case kindSecret:
				return ok(c.svc.RecoverDeletedSecret(ctx, c.v, s[0]))
			case kindKey:
				return ok(c.svc.RecoverDeletedKey(ctx, c.v, s[0]))
			}
			return ok(c.svc.RecoverDeletedCertificate(ctx, c.v, s[0]))
		}}
	}
	return nil
}
