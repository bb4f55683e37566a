package storage

import (
	"net/http"
	"strings"
)

// buildOp turns a write request (method, URL keys, If-Match, body) into
// an entityOp and the access it needs.
func buildOp(method, table string, keys [2]string, hasKeys bool, ifMatch string, body []byte) (entityOp, access, error) {
	var op entityOp
	acc := access{table: strings.ToLower(table), level: resourceTypeEntity, data: true}
	if method == http.MethodDelete {
		if !hasKeys {
			return op, acc, unsupportedVerb()
		}
		if ifMatch == "" {
			return op, acc, errorf(http.StatusBadRequest, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: If-Match.")
		}
		op = entityOp{Kind: opDelete, IfMatch: ifMatch, Entity: Entity{PartitionKey: keys[0], RowKey: keys[1]}}
		acc.sasPerm, acc.actions = "d", []string{actionEntitiesDel}
		acc.keys = &[2]string{keys[0], keys[1]}
		return op, acc, nil
	}
	e, bodyKeys, err := parseEntityBody(body)
	if err != nil {
		return op, acc, err
	}
	if hasKeys {
		e.PartitionKey, e.RowKey = keys[0], keys[1]
	} else {
		pk, okP := bodyKeys["PartitionKey"]
		rk, okR := bodyKeys["RowKey"]
		if !okP || !okR {
			return op, acc, errorf(http.StatusBadRequest, "PropertiesNeedValue", "The values are not specified for all properties in the entity.")
		}
		e.PartitionKey, e.RowKey = pk, rk
	}
	if err := e.validate(); err != nil {
		return op, acc, err
	}
	acc.keys = &[2]string{e.PartitionKey, e.RowKey}
	switch {
	case method == http.MethodPost && !hasKeys:
		op.Kind = opInsert
		acc.sasPerm, acc.actions = "a", []string{actionEntitiesAdd}
	case !hasKeys:
		return op, acc, unsupportedVerb()
	case method == http.MethodPut && ifMatch == "":
		op.Kind = opUpsertReplace
		acc.sasPerm, acc.actions = "au", []string{actionEntitiesAdd, actionEntitiesUpd}
	case method == http.MethodPut:
		op.Kind = opReplace
		acc.sasPerm, acc.actions = "u", []string{actionEntitiesUpd}
	case (method == "MERGE" || method == http.MethodPatch) && ifMatch == "":
		op.Kind = opUpsertMerge
		acc.sasPerm, acc.actions = "au", []string{actionEntitiesAdd, actionEntitiesUpd}
	case method == "MERGE" || method == http.MethodPatch:
		op.Kind = opMerge
		acc.sasPerm, acc.actions = "u", []string{actionEntitiesUpd}
	default:
		return op, acc, unsupportedVerb()
	}
	op.Entity, op.IfMatch = e, ifMatch
	return op, acc, nil
}

func (h *Handler) insertEntity(req *request, table string) error {
	return h.write(req, table, [2]string{}, false, http.MethodPost)
}

func (h *Handler) writeEntity(req *request, table string, keys [2]string, replace bool) error {
	m := "MERGE"
	if replace {
		m = http.MethodPut
	}
	return h.write(req, table, keys, true, m)
}

func (h *Handler) deleteEntity(req *request, table string, keys [2]string) error {
	return h.write(req, table, keys, true, http.MethodDelete)
}

func (h *Handler) write(req *request, table string, keys [2]string, hasKeys bool, method string) error {
	var body []byte
	if method != http.MethodDelete {
		var err error
		if body, err = readBody(req.r); err != nil {
			return err
		}
	}
	op, acc, err := buildOp(method, table, keys, hasKeys, req.r.Header.Get("If-Match"), body)
	if err != nil {
		return err
	}
	if err := h.authorize(req.r.Context(), req.account, req.caller, acc); err != nil {
		return err
	}
	out, err := h.svc.data.apply(req.r.Context(), req.account.Name, table, []entityOp{op})
	if oe, ok := err.(*opError); ok {
		return oe.Err
	}
	if err != nil {
		return err
	}
	e := out[0]
	if op.Kind == opDelete {
		return req.noContent(nil)
	}
	req.w.Header().Set("ETag", e.ETag())
	if op.Kind != opInsert {
		return req.noContent(nil)
	}
	loc := req.base + "/" + table + "(PartitionKey='" + odataKey(e.PartitionKey) + "',RowKey='" + odataKey(e.RowKey) + "')"
	req.w.Header().Set("Location", loc)
	if !wantsContent(req.r) {
		return req.noContent(map[string]string{"Preference-Applied": "return-no-content", "DataServiceId": loc})
	}
	req.w.Header().Set("Preference-Applied", "return-content")
	w := e.wire(req.md, nil, req.base, req.account.Name, table)
	if req.md != noMetadata {
		w["odata.metadata"] = req.base + "/$metadata#" + table + "/@Element"
	}
	return req.writeJSON(http.StatusCreated, w)
}

// parseSelect reads $select into the set of names (nil: all).
func parseSelect(s string) map[string]bool {
	if strings.TrimSpace(s) == "" || strings.TrimSpace(s) == "*" {
		return nil
	}
	m := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			m[n] = true
		}
	}
	return m
}

func (h *Handler) getEntity(req *request, table string, keys [2]string) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{table: strings.ToLower(table), level: resourceTypeEntity,
		sasPerm: "r", actions: []string{actionEntitiesRead}, data: true, keys: &keys}); err != nil {
		return err
	}
	e, err := h.svc.data.getEntity(req.r.Context(), req.account.Name, table, keys[0], keys[1])
	if err != nil {
		return err
	}
	w := e.wire(req.md, parseSelect(req.r.URL.Query().Get("$select")), req.base, req.account.Name, table)
	if req.md != noMetadata {
		w["odata.metadata"] = req.base + "/$metadata#" + table + "/@Element"
	}
	req.w.Header().Set("ETag", e.ETag())
	return req.writeJSON(http.StatusOK, w)
}

func (h *Handler) queryEntities(req *request, table string) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{table: strings.ToLower(table), level: resourceTypeEntity,
		sasPerm: "r", actions: []string{actionEntitiesRead}, data: true}); err != nil {
		return err
	}
	q := req.r.URL.Query()
	var eq entityQuery
	if f := q.Get("$filter"); f != "" {
		var err error
		if eq.Filter, err = parseFilter(f); err != nil {
			return err
		}
	}
	var err error
	if eq.Top, err = parseTop(q.Get("$top")); err != nil {
		return err
	}
	if np := q.Get("NextPartitionKey"); np != "" {
		if eq.AfterPK, err = decodeContinuation(np); err != nil {
			return err
		}
		if nr := q.Get("NextRowKey"); nr != "" {
			if eq.AfterRK, err = decodeContinuation(nr); err != nil {
				return err
			}
		}
		eq.HasAfter = true
	}
	if g := req.caller.sas; g != nil && !g.account {
		eq.Range = g.keyRange
	}
	res, err := h.svc.data.queryEntities(req.r.Context(), req.account.Name, table, eq)
	if err != nil {
		return err
	}
	if res.More {
		req.w.Header().Set("x-ms-continuation-NextPartitionKey", encodeContinuation(res.NextPK))
		req.w.Header().Set("x-ms-continuation-NextRowKey", encodeContinuation(res.NextRK))
	}
	sel := parseSelect(q.Get("$select"))
	value := make([]any, 0, len(res.Entities))
	for i := range res.Entities {
		value = append(value, res.Entities[i].wire(req.md, sel, req.base, req.account.Name, table))
	}
	out := map[string]any{"value": value}
	if req.md != noMetadata {
		out["odata.metadata"] = req.base + "/$metadata#" + table
	}
	return req.writeJSON(http.StatusOK, out)
}
