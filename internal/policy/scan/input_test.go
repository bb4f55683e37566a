package scan

import (
	"context"
	"strings"
	"testing"
)

const (
	subID = "/subscriptions/00000000-0000-0000-0000-000000000001"
	rgID  = subID + "/resourceGroups/rg1"
)

// res is a small resource record in JSON.
func res(name string) string {
	return `{"id":"` + rgID + `/providers/Microsoft.Storage/storageAccounts/` + name +
		`","type":"Microsoft.Storage/storageAccounts","name":"` + name + `","location":"westeurope"}`
}

type readResult struct {
	names  []string
	errs   []string
	format Format
	err    error
}

func readAll(t *testing.T, input string, format Format) readResult {
	t.Helper()
	var out readResult
	out.format, out.err = Read(context.Background(), strings.NewReader(input), format, func(r Record) error {
		if r.Err != nil {
			out.errs = append(out.errs, r.Err.Error())
			return nil
		}
		out.names = append(out.names, lookupString(r.Doc, "name"))
		return nil
	})
	return out
}

func TestReadFormats(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		wantFormat Format
		want       string
	}{
		{"az resource list array", "[\n" + res("a") + ",\n" + res("b") + "\n]\n", FormatJSON, "a b"},
		{"empty array", "[ ]", FormatJSON, ""},
		{"graph page object", `{"count": 2, "data": [` + res("a") + `,` + res("b") + `], "skip_token": null, "total_records": 2}`, FormatJSON, "a b"},
		{"graph REST page", "{\n \"totalRecords\": 1,\n \"$skipToken\": \"x\",\n \"data\": [" + res("a") + "],\n \"facets\": []\n}", FormatJSON, "a"},
		{"pages concatenated", "{\"data\": [" + res("a") + "]}\n{\"data\": [" + res("b") + "]}\n", FormatJSONL, "a b"},
		{"pretty pages concatenated", "{\n \"data\": [\n" + res("a") + "]\n}\n{\n \"data\": [" + res("b") + "]\n}", FormatJSON, "a b"},
		{"array of pages", "[{\"count\":1,\"data\":[" + res("a") + "]},\n{\"count\":1,\"data\":[" + res("b") + "]}]", FormatJSON, "a b"},
		{"bare data array", "[" + res("a") + "]", FormatJSON, "a"},
		{"json lines", res("a") + "\n\n" + res("b") + "\r\n" + res("c"), FormatJSONL, "a b c"},
		{"single pretty resource", "{\n  \"id\": \"" + rgID + "/providers/Microsoft.Web/sites/w\",\n  \"type\": \"Microsoft.Web/sites\",\n  \"name\": \"w\"\n}", FormatJSON, "w"},
		{"byte order mark", "\xef\xbb\xbf[" + res("a") + "]", FormatJSON, "a"},
		{"resource group from az group list", `[{"id":"` + rgID + `","name":"rg1","type":"Microsoft.Resources/resourceGroups","location":"westeurope"}]`, FormatJSON, "rg1"},
		{"subscription from az account list", `[{"id":"00000000-0000-0000-0000-000000000001","name":"prod","tenantId":"t","state":"Enabled"}]`, FormatJSON, "prod"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, tc.input, FormatAuto)
			if got.err != nil || len(got.errs) > 0 {
				t.Fatalf("err %v, record errors %v", got.err, got.errs)
			}
			if got.format != tc.wantFormat {
				t.Errorf("format %s, want %s", got.format, tc.wantFormat)
			}
			if s := strings.Join(got.names, " "); s != tc.want {
				t.Errorf("records %q, want %q", s, tc.want)
			}
		})
	}
}

func TestReadNormalizesContainers(t *testing.T) {
	var docs []map[string]any
	_, err := Read(context.Background(), strings.NewReader(`[{"id":"`+rgID+`","name":"rg1","type":"Microsoft.Resources/resourceGroups"},
		{"id":"00000000-0000-0000-0000-000000000001","name":"prod","tenantId":"t"},
		{"id":"`+rgID+`/providers/Microsoft.Web/sites/w"}]`), FormatAuto, func(r Record) error {
		docs = append(docs, r.Doc)
		return r.Err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{typeResourceGroup, typeSubscription, "Microsoft.Web/sites"}
	for i, d := range docs {
		if got := lookupString(d, "type"); got != want[i] {
			t.Errorf("record %d: type %q, want %q", i, got, want[i])
		}
	}
	if id := lookupString(docs[1], "id"); id != subID {
		t.Errorf("subscription id %q, want %q", id, subID)
	}
}

func TestReadMalformedRecords(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		format   Format
		want     string // the good records
		wantErrs []string
		fatal    string
	}{
		{"bad element in an array", "[\n" + res("a") + ",\n{\"id\": ,},\n" + res("b") + "\n]", FormatAuto, "a b",
			[]string{"$[1] (line 3): invalid JSON"}, ""},
		{"element that is not an object", "[" + res("a") + ", 42, \"x\", " + res("b") + "]", FormatAuto, "a b",
			[]string{"$[1] (line 1): a resource must be a JSON object, got a number", "$[2] (line 1): a resource must be a JSON object, got a string"}, ""},
		{"resource without id", "[{\"name\": \"x\"}, " + res("a") + "]", FormatAuto, "a", []string{"$[0] (line 1): resource has no id"}, ""},
		{"unparsable id", `[{"id": "not-an-id", "type": "x"}]`, FormatAuto, "", []string{`$[0] (line 1): id "not-an-id"`}, ""},
		{"bad json line", res("a") + "\n{\"id\": oops}\n" + res("b") + "\n", FormatAuto, "a b", []string{"line 2: invalid JSON"}, ""},
		{"json line that is an array", res("a") + "\n[1]\n", FormatJSONL, "a", []string{"line 2: a resource must be a JSON object, got an array"}, ""},
		{"bad element in a page", "{\"data\": [\n" + res("a") + ",\n{\"id\": 1}\n]}", FormatAuto, "a", []string{"$.data[1] (line 3): id"}, ""},
		{"truncated array", "[\n" + res("a") + ",\n{\"id\": \"x", FormatAuto, "a", nil, "unexpected end of input"},
		{"not json at all", "hello", FormatAuto, "", nil, "unexpected 'h'"},
		{"missing comma", "[" + res("a") + " " + res("b") + "]", FormatAuto, "a", nil, "want one of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, tc.input, tc.format)
			if s := strings.Join(got.names, " "); s != tc.want {
				t.Errorf("records %q, want %q", s, tc.want)
			}
			if len(got.errs) != len(tc.wantErrs) {
				t.Fatalf("record errors %q, want %q", got.errs, tc.wantErrs)
			}
			for i, e := range got.errs {
				if !strings.HasPrefix(e, tc.wantErrs[i]) {
					t.Errorf("record error %q, want prefix %q", e, tc.wantErrs[i])
				}
			}
			switch {
			case tc.fatal == "" && got.err != nil:
				t.Errorf("stream error %v", got.err)
			case tc.fatal != "" && (got.err == nil || !strings.Contains(got.err.Error(), tc.fatal)):
				t.Errorf("stream error %v, want one containing %q", got.err, tc.fatal)
			}
		})
	}
}

func TestReadOversizedLineIsSkipped(t *testing.T) {
	big := `{"id":"` + rgID + `/providers/Microsoft.Web/sites/big","x":"` + strings.Repeat("a", MaxRecordSize) + `"}`
	got := readAll(t, res("a")+"\n"+big+"\n"+res("b")+"\n", FormatJSONL)
	if strings.Join(got.names, " ") != "a b" || len(got.errs) != 1 || !strings.Contains(got.errs[0], "line 2: line longer") {
		t.Fatalf("records %v, errors %v, err %v", got.names, got.errs, got.err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatAuto, "AUTO": FormatAuto, "graph": FormatJSON, "resource-list": FormatJSON, "ndjson": FormatJSONL} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) gave no error")
	}
}
