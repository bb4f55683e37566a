package storage

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON sends a JSON body with the response's metadata content type.
func (req *request) writeJSON(status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := req.w.Header()
	h.Set("Content-Type", req.md.contentType())
	h.Set("DataServiceVersion", "3.0;")
	req.w.WriteHeader(status)
	_, _ = req.w.Write(b)
	return nil
}

func (req *request) noContent(extra map[string]string) error {
	for k, v := range extra {
		req.w.Header().Set(k, v)
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (req *request) tableJSON(name string) map[string]any {
	m := map[string]any{"TableName": name}
	if req.md == fullMetadata {
		m["odata.type"] = req.account.Name + ".Tables"
		m["odata.id"] = req.base + "/Tables('" + name + "')"
		m["odata.editLink"] = "Tables('" + name + "')"
	}
	return m
}

func (h *Handler) createTable(req *request) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{level: resourceTypeTable, sasPerm: "c", accountAnyOf: "acw",
		actions: []string{actionTablesWrite}}); err != nil {
		return err
	}
	b, err := readBody(req.r)
	if err != nil {
		return err
	}
	var body struct {
		TableName string `json:"TableName"`
	}
	if json.Unmarshal(b, &body) != nil || body.TableName == "" {
		return errorf(http.StatusBadRequest, "PropertiesNeedValue", "The values are not specified for all properties in the entity.")
	}
	if err := checkTableName(body.TableName); err != nil {
		return err
	}
	if err := h.svc.data.createTable(req.r.Context(), req.account.Name, body.TableName); err != nil {
		return err
	}
	loc := req.base + "/Tables('" + body.TableName + "')"
	req.w.Header().Set("Location", loc)
	if !wantsContent(req.r) {
		return req.noContent(map[string]string{"Preference-Applied": "return-no-content", "DataServiceId": loc})
	}
	req.w.Header().Set("Preference-Applied", "return-content")
	out := req.tableJSON(body.TableName)
	if req.md != noMetadata {
		out["odata.metadata"] = req.base + "/$metadata#Tables/@Element"
	}
	return req.writeJSON(http.StatusCreated, out)
}

func (h *Handler) deleteTable(req *request, name string) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{table: name, level: resourceTypeTable, sasPerm: "d",
		actions: []string{actionTablesDelete}}); err != nil {
		return err
	}
	if err := h.svc.data.deleteTable(req.r.Context(), req.account.Name, name); err != nil {
		return err
	}
	return req.noContent(nil)
}

func (h *Handler) getTable(req *request, name string) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{table: name, level: resourceTypeTable, sasPerm: "l", accountAnyOf: "lr",
		actions: []string{actionTablesRead}}); err != nil {
		return err
	}
	t, err := h.svc.data.table(req.r.Context(), req.account.Name, name)
	if err != nil {
		return err
	}
	out := req.tableJSON(t.Name)
	if req.md != noMetadata {
		out["odata.metadata"] = req.base + "/$metadata#Tables/@Element"
	}
	return req.writeJSON(http.StatusOK, out)
}

func (h *Handler) queryTables(req *request) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{level: resourceTypeTable, sasPerm: "l", accountAnyOf: "lr",
		actions: []string{actionTablesRead}}); err != nil {
		return err
	}
	q := req.r.URL.Query()
	var filter expr
	if f := q.Get("$filter"); f != "" {
		var err error
		if filter, err = parseFilter(f); err != nil {
			return err
		}
	}
	top, err := parseTop(q.Get("$top"))
	if err != nil {
		return err
	}
	after := ""
	if n := q.Get("NextTableName"); n != "" {
		if after, err = decodeContinuation(n); err != nil {
			return err
		}
	}
	names, next, err := h.svc.data.listTables(req.r.Context(), req.account.Name, filter, top, after)
	if err != nil {
		return err
	}
	if next != "" {
		req.w.Header().Set("x-ms-continuation-NextTableName", encodeContinuation(next))
	}
	value := make([]any, 0, len(names))
	for _, n := range names {
		value = append(value, req.tableJSON(n))
	}
	out := map[string]any{"value": value}
	if req.md != noMetadata {
		out["odata.metadata"] = req.base + "/$metadata#Tables"
	}
	return req.writeJSON(http.StatusOK, out)
}

// parseTop reads $top: 1 to 1000, default 1000.
func parseTop(s string) (int, error) {
	if s == "" {
		return maxPage, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPage {
		return 0, invalidInput("The value of $top must be a number from 1 to %d.", maxPage)
	}
	return n, nil
}

func (h *Handler) getACL(req *request, table string) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{table: table, level: resourceTypeTable,
		actions: []string{actionTablesRead}}); err != nil {
		return err
	}
	t, err := h.svc.data.table(req.r.Context(), req.account.Name, table)
	if err != nil {
		return err
	}
	req.w.Header().Set("Content-Type", "application/xml")
	req.w.WriteHeader(http.StatusOK)
	_, _ = req.w.Write(marshalACL(t.ACL))
	return nil
}

func (h *Handler) setACL(req *request, table string) error {
	if err := h.authorize(req.r.Context(), req.account, req.caller, access{table: table, level: resourceTypeTable,
		actions: []string{actionTablesWrite}}); err != nil {
		return err
	}
	acl, err := parseACL(req.r.Body)
	if err != nil {
		return err
	}
	if err := h.svc.data.setACL(req.r.Context(), req.account.Name, table, acl); err != nil {
		return err
	}
	return req.noContent(nil)
}
