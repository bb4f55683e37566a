package vault

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// specExamplesDir holds Key Vault's REST examples in the shared corpus.
const specExamplesDir = "../../../shared/corpus/rest-api/specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.5/examples"

// specCase replays one spec example: the request (method, path with the
// example's parameters, its body) after a setup that creates what the
// example presumes, and checks the status and that every field of the
// example's response is in ours with the same JSON type.
type specCase struct {
	method, path string
	// setup prepares state and returns values for {key-version} and the like.
	setup func(f *kvFixture, p map[string]any) map[string]string
}

func setSecretNamed(f *kvFixture, p map[string]any) map[string]string {
	c := f.secretsClient(f.cred(f.home))
	r, err := c.SetSecret(context.Background(), p["secret-name"].(string), azsecrets.SetSecretParameters{Value: to.Ptr("v")}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return map[string]string{"secret-version": r.ID.Version()}
}

func deletedSecretNamed(f *kvFixture, p map[string]any) map[string]string {
	setSecretNamed(f, p)
	if _, err := f.secretsClient(f.cred(f.home)).DeleteSecret(context.Background(), p["secret-name"].(string), nil); err != nil {
		f.t.Fatal(err)
	}
	return nil
}

func rsaKeyNamed(f *kvFixture, p map[string]any) map[string]string {
	r, err := f.keysClient(f.cred(f.home)).CreateKey(context.Background(), p["key-name"].(string),
		azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSA), KeySize: to.Ptr(int32(2048))}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return map[string]string{"key-version": r.Key.KID.Version()}
}

func selfCertNamed(f *kvFixture, p map[string]any) map[string]string {
	c := f.createSelfSigned(f.certsClient(f.cred(f.home)), p["certificate-name"].(string), ContentTypePKCS12, true)
	return map[string]string{"certificate-version": c.ID.Version()}
}

func unknownCertNamed(f *kvFixture, p map[string]any) map[string]string {
	pol := `{"policy":{"issuer":{"name":"Unknown"},"x509_props":{"subject":"CN=x"}}}`
	if st, _, e := f.rawCall("POST", "/certificates/"+p["certificate-name"].(string)+"/create?api-version=7.5", f.token(f.home), pol); st != 202 {
		f.t.Fatalf("setup: %d %v", st, e)
	}
	return nil
}

var specCases = map[string]specCase{
	"SetSecret-example.json": {"PUT", "/secrets/{secret-name}", nil},
	"GetSecret-example.json": {"GET", "/secrets/{secret-name}/{secret-version}", setSecretNamed},
	"GetSecretVersions-example.json": {"GET", "/secrets/{secret-name}/versions", func(f *kvFixture, p map[string]any) map[string]string {
		setSecretNamed(f, p)
		return setSecretNamed(f, p) // two versions, so maxresults=1 pages
	}},
	"DeleteSecret-example.json":            {"DELETE", "/secrets/{secret-name}", setSecretNamed},
	"RecoverDeletedSecret-example.json":    {"POST", "/deletedsecrets/{secret-name}/recover", deletedSecretNamed},
	"PurgeDeletedSecret-example.json":      {"DELETE", "/deletedsecrets/{secret-name}", deletedSecretNamed},
	"CreateKey-example.json":               {"POST", "/keys/{key-name}/create", nil},
	"sign-example.json":                    {"POST", "/keys/{key-name}/{key-version}/sign", rsaKeyNamed},
	"verify-example.json":                  {"POST", "/keys/{key-name}/{key-version}/verify", rsaKeyNamed},
	"encrypt-example.json":                 {"POST", "/keys/{key-name}/{key-version}/encrypt", rsaKeyNamed},
	"decrypt-example.json":                 {"POST", "/keys/{key-name}/{key-version}/decrypt", rsaKeyNamed},
	"wrapKey-example.json":                 {"POST", "/keys/{key-name}/{key-version}/wrapkey", rsaKeyNamed},
	"CreateCertificate-example.json":       {"POST", "/certificates/{certificate-name}/create", nil},
	"GetCertificate-example.json":          {"GET", "/certificates/{certificate-name}", selfCertNamed},
	"GetCertificateOperation-example.json": {"GET", "/certificates/{certificate-name}/pending", unknownCertNamed},
	"ImportCertificate-example.json":       {"POST", "/certificates/{certificate-name}/import", nil},
	"MergeCertificate-example.json":        {"POST", "/certificates/{certificate-name}/pending/merge", unknownCertNamed},
}

func TestSpecExamples(t *testing.T) {
	if _, err := os.Stat(specExamplesDir); err != nil {
		t.Skipf("Key Vault spec examples not found at %s (../shared absent): %v; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", specExamplesDir, err)
	}
	known := readKnownFailures(t, "testdata/spec_examples_known_failures.txt")
	names := make([]string, 0, len(specCases))
	for n := range specCases {
		names = append(names, n)
	}
	sort.Strings(names)
	f := newKVFixture(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			f.t = t
			problem := runSpecExample(t, f, name, specCases[name])
			reason, listed := known[name]
			switch {
			case problem != "" && !listed:
				t.Fatalf("%s (not in the known failures)", problem)
			case problem == "" && listed:
				t.Fatalf("passes now; remove it from the known failures (%s)", reason)
			case problem != "":
				t.Logf("known failure: %s (%s)", reason, problem)
			}
		})
	}
}

func runSpecExample(t *testing.T, f *kvFixture, name string, c specCase) string {
	raw, err := os.ReadFile(filepath.Join(specExamplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Parameters map[string]any `json:"parameters"`
		Responses  map[string]struct {
			Body any `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	if c.setup != nil {
		for k, v := range c.setup(f, ex.Parameters) {
			vals[k] = v
		}
	}
	path := c.path
	for k, v := range ex.Parameters {
		if s, ok := v.(string); ok && vals[k] == "" {
			vals[k] = s
		}
	}
	for k, v := range vals {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	query := "?api-version=7.5"
	if m, ok := ex.Parameters["maxresults"].(float64); ok {
		query += "&maxresults=" + strconv.Itoa(int(m))
	}
	body := ""
	if p, ok := ex.Parameters["parameters"]; ok {
		b, _ := json.Marshal(p)
		body = string(b)
	}
	status, got := f.rawJSON(c.method, path+query, body)
	for code, resp := range ex.Responses {
		want, _ := strconv.Atoi(code)
		if status != want {
			return "status " + strconv.Itoa(status) + ", example " + code + ": " + string(mustJSON(got))
		}
		if p := shapeDiff("", resp.Body, got); p != "" {
			return p
		}
	}
	return ""
}

// rawJSON sends an authenticated request and decodes the JSON answer.
func (f *kvFixture) rawJSON(method, path, body string) (int, any) {
	req, _ := http.NewRequest(method, f.vaultURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token(f.home))
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.opts.Transport.(*http.Client).Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	_ = json.Unmarshal(b, &v)
	return resp.StatusCode, v
}

// shapeDiff reports the first field of want missing from got or of
// another JSON type; arrays compare their first elements.
func shapeDiff(at string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return at + ": want an object"
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if w[k] == nil {
				continue
			}
			gv, ok := g[k]
			if !ok {
				return at + "/" + k + ": missing"
			}
			if p := shapeDiff(at+"/"+k, w[k], gv); p != "" {
				return p
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return at + ": want an array"
		}
		if len(w) > 0 && len(g) > 0 {
			return shapeDiff(at+"[0]", w[0], g[0])
		}
	case string:
		if _, ok := got.(string); !ok {
			return at + ": want a string"
		}
	case float64:
		if _, ok := got.(float64); !ok {
			return at + ": want a number"
		}
	case bool:
		if _, ok := got.(bool); !ok {
			return at + ": want a boolean"
		}
	}
	return ""
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// readKnownFailures reads "case: reason" lines.
func readKnownFailures(t *testing.T, path string) map[string]string {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s: %q needs a reason", path, line)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(reason)
	}
	return out
}
