package scan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/policy/scan/internal/gen/synth"
)

// decodeCases are records the fast decoder must decode exactly as
// encoding/json (decodeObject) does, including the errors.
var decodeCases = []string{
	`{"id":"/subscriptions/s/resourceGroups/g","n":1,"f":1.5,"e":1e3,"neg":-0,"big":12345678901234567890,"i53":9007199254740993,
	  "t":true,"nf":false,"z":null,"a":[],"o":{},"nested":{"x":[1,{"y":"z"},[[]]]}}`,
	` { "spaces" : [ 1 , 2 ] , "tabs":	"x" } `,
	`{"dup":1,"dup":2}`,
	`{"esc":"a\"b\\c\/d\u00e9\ud83d\ude00\n"}`,
	`{"badsurrogate":"\ud800x"}`,
	`{"utf8":"é中😀"}`,
	"{\"invalidutf8\":\"a\xffb\"}",
	"{\"ctl\":\"a\x01b\"}",
	`{"num":01}`,
	`{"num":1.}`,
	`{"num":1e}`,
	`{"num":-}`,
	`{"num":1.0}`,
	`{"num":-12.50e-1}`,
	`{"num":1e400}`,
	`{"num":123456789012345678}`,
	`{"num":-999999999999999999}`,
	`{"a":tru}`,
	`{"a":nul}`,
	`{"a":1,}`,
	`{"a" 1}`,
	`{"a":1} {"b":2}`,
	`{"a":1} ]`,
	`{"a":1} }`,
	`{"a":[1,]}`,
	`{"a":[1 2]}`,
	`{a:1}`,
	`[1,2]`,
	`"str"`,
	`12`,
	``,
	`{`,
	`{"a":"unterminated}`,
	strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600),
	strings.Repeat(`[`, 20000) + strings.Repeat("]", 20000),
}

func TestDecoderMatchesEncodingJSON(t *testing.T) {
	d := &decoder{}
	for _, c := range decodeCases {
		want, wantErr := decodeObject([]byte(c))
		got, gotErr := d.decode([]byte(c))
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) {
			t.Errorf("%.60q: error %v, want %v", c, gotErr, wantErr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%.60q: decoded %#v, want %#v", c, got, want)
		}
	}
	// the fast path itself took the plain records (not encoding/json)
	for _, c := range decodeCases[:3] {
		if _, ok := d.fast([]byte(c)); !ok {
			t.Errorf("%.60q: the fast path refused a plain record", c)
		}
	}
}

func FuzzDecoderMatchesEncodingJSON(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, wantErr := decodeObject(raw)
		got, gotErr := (&decoder{}).decode(raw)
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, %v; want %#v, %v", raw, got, gotErr, want, wantErr)
		}
	})
}

// splitOneByOne is the splitter's value() written the plain way, a byte
// at a time: the reference the buffered scan must agree with.
func splitOneByOne(r *bufio.Reader, line *int) ([]byte, error) {
	var buf []byte
	depth, inStr, esc := 0, false, false
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == '\n' {
			*line++
		}
		buf = append(buf, b)
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case b == '\\':
				esc = true
			case b == '"':
				inStr = false
				if depth == 0 {
					return buf, nil
				}
			}
		case b == '"':
			inStr = true
		case b == '{' || b == '[':
			depth++
		case b == '}' || b == ']':
			depth--
			if depth == 0 {
				return buf, nil
			}
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced")
			}
		}
	}
}

// TestSplitterScansInRuns reads values with the smallest reader buffer
// (values then span many refills) and compares each value and line count
// with the byte-at-a-time reference.
func TestSplitterScansInRuns(t *testing.T) {
	values := []string{
		`{"a":"x\"y\\","b":[1,{"c":"}\n]"}],"d":"line\
break"}`,
		`"a string with \"quotes\" and \\ and } ]"`,
		`[[["deep"]],{"k":"` + strings.Repeat("long ", 40) + `"}]`,
		"{\n  \"pretty\": [\n    1,\n    2\n  ]\n}",
		`{"unbalanced": 1}}`,
	}
	for _, v := range values {
		for _, size := range []int{16, 17, 64, 4096} {
			s := newSplitter(bufio.NewReaderSize(strings.NewReader(v+"\n"), size), 1<<20)
			got, gotErr := s.value()
			line := 1
			want, wantErr := splitOneByOne(bufio.NewReader(strings.NewReader(v+"\n")), &line)
			if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) || s.line != line {
				t.Errorf("buffer %d, %.40q: got %q (line %d, %v), want %q (line %d, %v)", size, v, got, s.line, gotErr, want, line, wantErr)
			}
		}
	}
	// a value over the cap is consumed whole and reported too large
	big := `{"k":"` + strings.Repeat("x", 100) + `"} {"next":1}`
	s := newSplitter(bufio.NewReaderSize(strings.NewReader(big), 16), 50)
	if _, err := s.value(); err != errTooLarge {
		t.Fatalf("over the cap: %v, want errTooLarge", err)
	}
	if v, err := s.value(); err != nil || string(v) != `{"next":1}` {
		t.Fatalf("after a value over the cap: %q, %v", v, err)
	}
	// a truncated value is an unexpected end
	s = newSplitter(bufio.NewReaderSize(strings.NewReader(`{"a":"b`), 16), 50)
	if _, err := s.value(); err == nil || !strings.Contains(err.Error(), "unexpected end") {
		t.Fatalf("truncated: %v", err)
	}
}

// TestFastDecodeKeepsOutput scans estates in every format, with
// malformed records among them, with the fast decoder and with
// encoding/json alone: every output must be the same bytes.
func TestFastDecodeKeepsOutput(t *testing.T) {
	dir := t.TempDir()
	var estates []string
	for _, format := range []string{"json", "jsonl"} {
		var buf bytes.Buffer
		if err := synth.Write(&buf, 1500, 7, format); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "synth."+format)
		writeFile(t, path, buf.String())
		estates = append(estates, path)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	writeFile(t, bad, res("a")+"\nnot json\n"+`{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/b","type":"Microsoft.Storage/storageAccounts","location":"eastus","tags":{"owner":"caf\u00e9"},"n":1e400}`+
		"\n{\"id\":\"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/c\",\"location\":\"x\xffy\"}\n{\"id\":1}\n{\"id\":\"/subscriptions/s\"} trailing\n")
	estates = append(estates, bad, filepath.Join(examples, "estate.json"), filepath.Join(examples, "estate-graph.json"), filepath.Join(examples, "estate.jsonl"))
	outputs := func() []string {
		var out []string
		for _, e := range estates {
			var js, cs, sa, table, errs bytes.Buffer
			for _, s := range []Sink{&JSONSink{Out: &js}, &CSVSink{Out: &cs}, &SARIFSink{Out: &sa}, &TableSink{Out: &table, Errs: &errs}} {
				scanTo(t, e, s)
			}
			out = append(out, js.String(), cs.String(), sa.String(), table.String()+errs.String())
		}
		return out
	}
	fast := outputs()
	fastDecode = false
	defer func() { fastDecode = true }()
	slow := outputs()
	for i := range fast {
		if fast[i] != slow[i] {
			t.Errorf("%s, output %d differs with the fast decoder:\n%s\n---- encoding/json:\n%s", estates[i/4], i%4, fast[i], slow[i])
		}
	}
}

// TestContainerCacheAgrees checks the worker's cache of resourceGroup()
// and subscription() values against the index itself, for IDs that
// share a prefix and IDs the cache must not answer.
func TestContainerCacheAgrees(t *testing.T) {
	idx := NewIndex(nil, false)
	idx.Add(map[string]any{"id": "/subscriptions/s1/resourceGroups/g1", "type": typeResourceGroup, "name": "g1", "location": "westeurope"})
	w := &worker{s: &Scanner{Index: idx}}
	ids := []string{
		"/subscriptions/s1/resourceGroups/g1/providers/Microsoft.Storage/storageAccounts/a",
		"/subscriptions/s1/resourceGroups/g1/providers/Microsoft.Storage/storageAccounts/b",
		"/subscriptions/s1/resourcegroups/G1/providers/Microsoft.Storage/storageAccounts/c",
		"/subscriptions/s1/resourceGroups/g2/providers/Microsoft.Network/networkSecurityGroups/n",
		"/subscriptions/s1/resourceGroups/g1/providers/Microsoft.Storage/storageAccounts/a/providers",
		"/subscriptions/s1/resourceGroups/g1/providers//x",
		"/subscriptions/s1/resourceGroups/g1",
		"/subscriptions/s1",
	}
	for round := 0; round < 2; round++ {
		for _, id := range ids {
			rg, sub := w.containers(id)
			wrg, wsub := idx.containerValues(id)
			if !reflect.DeepEqual(rg, wrg) || !reflect.DeepEqual(sub, wsub) {
				t.Errorf("%s: cached %v %v, want %v %v", id, rg, sub, wrg, wsub)
			}
		}
	}
	if len(w.scopes) != 3 {
		t.Errorf("%d prefixes cached, want 3 (g1, G1, g2)", len(w.scopes))
	}
}

// TestOnePassWhenTheIndexIsUnused: a plan that reads neither related
// resources nor resourceGroup()/subscription() reads the estate once,
// with the same output as two passes; one that does reads it twice.
func TestOnePassWhenTheIndexIsUnused(t *testing.T) {
	dir := t.TempDir()
	uses := filepath.Join(dir, "rg-location.json")
	writeFile(t, uses, `{"properties":{"mode":"All","policyRule":{"if":{"allOf":[
		{"field":"type","equals":"Microsoft.Storage/storageAccounts"},
		{"field":"location","notEquals":"[resourceGroup().location]"}]},"then":{"effect":"audit"}}}}`)
	plain := filepath.Join(dir, "location.json")
	writeFile(t, plain, `{"properties":{"mode":"All","policyRule":{"if":{"allOf":[
		{"field":"type","equals":"Microsoft.Storage/storageAccounts"},
		{"field":"location","notEquals":"westeurope"}]},"then":{"effect":"audit"}}}}`)
	for _, tc := range []struct {
		policy string
		want   bool
	}{{uses, true}, {plain, false}} {
		plan, err := LoadPlan(Policies{PolicyPaths: []string{tc.policy}})
		if err != nil {
			t.Fatal(err)
		}
		if got := plan.needsIndex(); got != tc.want {
			t.Errorf("%s: needsIndex %v, want %v", filepath.Base(tc.policy), got, tc.want)
		}
	}
	plan, err := LoadPlan(examplePolicies(t))
	if err != nil {
		t.Fatal(err)
	}
	if !plan.needsIndex() {
		t.Error("the example policies (auditIfNotExists) do not need the index")
	}
	var buf bytes.Buffer
	if err := synth.Write(&buf, 1500, 3, "jsonl"); err != nil {
		t.Fatal(err)
	}
	estate := filepath.Join(dir, "estate.jsonl")
	writeFile(t, estate, buf.String())
	scanWith := func(policy string) string {
		plan, err := LoadPlan(Policies{PolicyPaths: []string{policy}})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := Run(context.Background(), FileEstate(estate), plan, Config{Now: exampleNow, Workers: 2}, &JSONSink{Out: &out}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	onePass := scanWith(plain)
	skipIndexPass = false
	defer func() { skipIndexPass = true }()
	if twoPasses := scanWith(plain); onePass != twoPasses {
		t.Errorf("one pass and two passes differ:\n%.2000s\n----\n%.2000s", onePass, twoPasses)
	}
	if !strings.Contains(onePass, `"nonCompliantResults"`) || strings.Contains(onePass, `"nonCompliantResults": 0`) {
		t.Errorf("the plain policy found nothing: the comparison shows nothing\n%.500s", onePass)
	}
}
