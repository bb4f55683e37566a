package storage

import "testing"

// FuzzParseEntityBody feeds request bodies to the entity parser: it must
// answer an entity or a 4xx *Error, never panic.
func FuzzParseEntityBody(f *testing.F) {
	for _, s := range []string{`{"PartitionKey":"p","RowKey":"r","N":1}`, `{"Big":"5","Big@odata.type":"Edm.Int64"}`,
		`{"D":"NaN","D@odata.type":"Edm.Double"}`, `{"B":"AQI=","B@odata.type":"Edm.Binary"}`, `[]`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _, err := parseEntityBody(b)
		if err != nil {
			if se, ok := err.(*Error); !ok || se.Status >= 500 {
				t.Fatalf("%q: %v", b, err)
			}
			return
		}
		if _, err := unmarshalProps(marshalProps(e.Props)); err != nil {
			t.Fatalf("%q: stored form does not read back: %v", b, err)
		}
	})
}

// FuzzParseEntityPath feeds URL paths to the key-predicate parser.
func FuzzParseEntityPath(f *testing.F) {
	for _, s := range []string{"/t(PartitionKey='a',RowKey='b')", "/tbl()", "/tbl(PartitionKey='a''b',RowKey='')", "/t("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		_, _, _, err := parseEntityPath(p)
		if err != nil {
			if se, ok := err.(*Error); !ok || se.Status >= 500 {
				t.Fatalf("%q: %v", p, err)
			}
		}
	})
}
