package kql

import (
	"math"
	"strings"
)

// APIResponse is the Log Analytics query API's response body:
// {"tables":[{"name","columns":[{"name","type"}],"rows":[[...]]}]}.
type APIResponse struct {
	Tables []APITable      `json:"tables"`
	Render *APIRenderation `json:"render,omitempty"`
}

// APITable is one result table.
type APITable struct {
	Name    string      `json:"name"`
	Columns []APIColumn `json:"columns"`
	Rows    [][]any     `json:"rows"`
}

// APIColumn names a result column and its type (bool, datetime, dynamic,
// int, long, real, string, guid, decimal, timespan).
type APIColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// APIRenderation is the render operator's visualization, returned when the
// caller asks for it (Prefer: include-render=true).
type APIRenderation struct {
	Visualization string `json:"visualization"`
	Properties    string `json:"properties,omitempty"`
}

// QueryResponse shapes a one-table result as the query API returns it.
func (r *Result) QueryResponse() APIResponse { return TablesResponse([]*Result{r}) }

// PrimaryResult is the name of a result table the query does not name:
// the kind Kusto gives every table a query statement returns.
const PrimaryResult = "PrimaryResult"

// TablesResponse shapes a query's result tables as the query API returns
// them, in order: each named as the query names it (a trailing "as",
// fork's "name=", facet's column), else PrimaryResult. The render, if
// any, is the first table's.
func TablesResponse(rs []*Result) APIResponse {
	resp := APIResponse{Tables: make([]APITable, len(rs))}
	for k, r := range rs {
		name := r.Name
		if name == "" {
			name = PrimaryResult
		}
		t := APITable{Name: name, Columns: make([]APIColumn, len(r.Columns)), Rows: make([][]any, len(r.Rows))}
		for i, c := range r.Columns {
			t.Columns[i] = APIColumn{Name: c.Name, Type: c.Type.APIName()}
		}
		for i, row := range r.Rows {
			out := make([]any, len(row))
			for j, v := range row {
				out[j] = v.APIValue()
			}
			t.Rows[i] = out
		}
		resp.Tables[k] = t
	}
	if len(rs) > 0 && rs[0].Render != nil {
		resp.Render = &APIRenderation{Visualization: rs[0].Render.Chart, Properties: rs[0].Render.Text}
	}
	return resp
}

// apiDateTime renders a datetime as the query API does: ISO 8601 in UTC
// with the fraction's trailing zeros dropped ("2017-08-24T06:59:59Z",
// "2021-03-24T22:35:06.8337386Z"), as in the API's own example
// (operationalinsights data-plane v1 examples/oms-post-example.json).
func apiDateTime(ticks int64) string {
	s := formatDateTime(ticks) // yyyy-MM-ddTHH:mm:ss.fffffffZ
	frac := strings.TrimRight(s[20:27], "0")
	if frac == "" {
		return s[:19] + "Z"
	}
	return s[:20] + frac + "Z"
}

// APIValue encodes a value as the query API does: numbers and bools as
// JSON, NaN and infinities as strings, datetimes as ISO 8601 strings,
// timespans, guids and decimals as strings, dynamic values as a JSON string,
// nulls as null.
func (v Value) APIValue() any {
	if v.T == TypeString {
		return v.s
	}
	if !v.ok {
		return nil
	}
	switch v.T {
	case TypeBool:
		return v.i != 0
	case TypeInt, TypeLong:
		return v.i
	case TypeReal:
		f := v.real()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return formatReal(f)
		}
		return f
	case TypeDecimal:
		return v.Text()
	case TypeGuid:
		return v.s
	case TypeDateTime:
		return apiDateTime(v.i)
	case TypeTimeSpan:
		return formatTimeSpan(v.i)
	case TypeDynamic:
		return jsonCompact(v.d)
	}
	return nil
}
