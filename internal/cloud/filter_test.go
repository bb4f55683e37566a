package cloud

import "testing"

func TestFilterMatchesAsARMDocuments(t *testing.T) {
	doc := map[string]any{"id": "/subscriptions/s1/resourceGroups/Web-RG/providers/Microsoft.Web/sites/WebApp1", "name": "WebApp1", "type": "Microsoft.Web/sites", "location": "westeurope",
		"tags": map[string]any{"Env": "prod", "owner": "o'neil"}}
	cases := []struct {
		filter string
		want   bool
	}{
		{"", true},
		{"tagName eq 'env'", true},
		{"tagname eq 'Env' and tagValue eq 'prod'", true},
		{"tagName eq 'Env' and tagValue eq 'Prod'", false},
		{"tagName eq 'owner' and tagValue eq 'o''neil'", true},
		{"resourceType eq 'microsoft.web/sites'", true},
		{"resourceType eq 'Microsoft.Web/sites' and location eq 'West Europe'", true},
		{"resourceType eq 'Microsoft.Sql/servers'", false},
		{"substringof('app', name)", true},
		{"name eq 'webapp2'", false},
		{"resourceGroup eq 'web-rg'", true},
		{"ResourceGroup EQ 'Web-RG' and name eq 'webapp1'", true},
		{"resourceGroup eq 'other'", false},
		{"resourceGroup ne 'other'", true},
		{"resourceGroup NE 'WEB-RG'", false},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.filter)
		if err != nil {
			t.Errorf("%q: %v", c.filter, err)
			continue
		}
		if got := f.Match(doc, "Microsoft.Web/sites"); got != c.want {
			t.Errorf("%q matched %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestFilterRejectsMalformedInput(t *testing.T) {
	for _, s := range []string{"tagName eq", "tagValue eq 'x'", "tagName eq 'a' or tagName eq 'b'", "foo eq 'x'",
		"tagName eq 'a' and", "tagName eq 'unterminated", "substringof('x', location)", "name ne 'x'", "resourceGroup eq", "resourceGroup gt 'x'", "tagName eq 'a' and tagName eq 'b'"} {
		if _, err := ParseFilter(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"tagName eq 'env' and tagValue eq 'prod'", "resourceType eq 'Microsoft.Web/sites'",
		"substringof('a', name)", "name eq 'o''x'", "resourceGroup ne 'rg' and resourceGroup eq 'b'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err == nil {
			flt.Match(map[string]any{"id": "/subscriptions/s/resourceGroups/rg/providers/A.B/c/x", "name": "x",
				"tags": map[string]any{"a": "b"}}, "t")
		}
	})
}
