package kql

import (
	"context"
	"strings"
	"testing"
)

// TestParseUserAgent runs the parse-user-agent-function page's two examples
// and checks their documented bags.
func TestParseUserAgent(t *testing.T) {
	res := runQuery(t, `print useragent = "Mozilla/5.0 (Windows; U; en-US) AppleWebKit/531.9 (KHTML, like Gecko) AdobeAIR/2.5.1"
| extend x = parse_user_agent(useragent, "browser")
| project x = tostring(x)`)
	if got, want := res.Rows[0][0].Plain(), `{"Browser":{"Family":"AdobeAIR","MajorVersion":"2","MinorVersion":"5","Patch":"1"}}`; got != want {
		t.Errorf("browser:\n got %s\nwant %s", got, want)
	}
	res = runQuery(t, `print useragent = "Mozilla/5.0 (SymbianOS/9.2; U; Series60/3.1 NokiaN81-3/10.0.032 Profile/MIDP-2.0 Configuration/CLDC-1.1 ) AppleWebKit/413 (KHTML, like Gecko) Safari/4"
| extend x = parse_user_agent(useragent, dynamic(["browser","os","device"]))
| project x = tostring(x)`)
	want := `{"Browser":{"Family":"Nokia OSS Browser","MajorVersion":"3","MinorVersion":"1","Patch":""},` +
		`"OperatingSystem":{"Family":"Symbian OS","MajorVersion":"9","MinorVersion":"2","Patch":"","PatchMinor":""},` +
		`"Device":{"Family":"Nokia N81","Brand":"Nokia","Model":"N81-3"}}`
	if got := res.Rows[0][0].Plain(); got != want {
		t.Errorf("all three:\n got %s\nwant %s", got, want)
	}
	// look-for from a column: an unknown target is null for that row
	res = runQuery(t, `datatable(k:string)["os", "nope"] | extend x = parse_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", k) | project f = tostring(x.OperatingSystem.Family), n = isnull(x)`)
	if got := joinColumn(res, 0) + "/" + joinColumn(res, 1); got != "Windows,/False,True" {
		t.Errorf("column look-for: %s", got)
	}
	for _, q := range []string{
		`print parse_user_agent("x", "browsers")`,
		`print parse_user_agent("x", dynamic(["os", 1]))`,
		`print parse_user_agent(1, "os")`,
		`print parse_user_agent("x")`,
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil || !strings.Contains(err.Error(), "parse_user_agent") {
			t.Errorf("%s: err %v", q, err)
		}
	}
}
