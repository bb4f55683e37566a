package interop

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pythonWith returns a Python interpreter that imports every module named,
// or skips the test naming the Debian package that provides them. Debian's
// /usr/bin/python3 comes first: a python3 earlier on PATH (pyenv, a venv)
// usually lacks the system's azure packages.
func pythonWith(t *testing.T, modules ...string) string {
	t.Helper()
	imports := "import " + strings.Join(modules, ", ")
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(py, "-c", imports).Run(); err == nil {
			return py
		}
	}
	t.Skipf("no python3 that can %q (Debian: apt-get install python3-azure python3-msal); skipping", imports)
	return ""
}

// runPython runs testdata/script with args and the environment `steward
// env` prints (credential: secret or certificate), and decodes the JSON
// object the script writes into out. A failure shows the script's output
// and Steward's request log.
func runPython(t *testing.T, s *served, py, credential, script string, out any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, py, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Env = append(os.Environ(), s.env(credential)...)
	cmd.Env = append(cmd.Env, "PYTHONDONTWRITEBYTECODE=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\nSteward's requests:\n%s", script, strings.Join(args, " "), err, stderr.String(), s.requestLog())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("%s: output %q: %v\n%s", script, stdout, err, stderr.String())
	}
}

// TestPythonSDKGetsTokensWithSecretAndCertificate checks that
// azure.identity's ClientSecretCredential and CertificateCredential, with
// Steward as authority and instance discovery off, get ARM tokens that
// Steward's validator accepts for the administrator.
func TestPythonSDKGetsTokensWithSecretAndCertificate(t *testing.T) {
	t.Parallel()
	py := pythonWith(t, "azure.identity")
	s := serve(t)
	v := s.Validator("https://management.azure.com")
	for _, credential := range []string{"secret", "certificate"} {
		t.Run(credential, func(t *testing.T) {
			var got struct{ Token string }
			runPython(t, s, py, credential, "identity.py", &got, credential)
			p, err := v.Validate(context.Background(), got.Token)
			if err != nil {
				t.Fatalf("token does not validate: %v", err)
			}
			if p.AppID != s.Info.ClientID || p.ObjectID != s.Info.ObjectID {
				t.Errorf("principal %+v, want app %s object %s", p, s.Info.ClientID, s.Info.ObjectID)
			}
		})
	}
}

// TestPythonSDKManagesResourceGroups drives ResourceManagementClient
// through a resource group's life: create, update, get, list (with a tag
// filter), existence check, resource list, delete.
func TestPythonSDKManagesResourceGroups(t *testing.T) {
	t.Parallel()
	survey(t, pyDirect, "resource groups: ResourceManagementClient create_or_update", "resource groups: get",
		"resource groups: list", "resource groups: list with a tag filter", "resource groups: check_existence",
		"resource groups: begin_delete", "resources: resources.list")
	py := pythonWith(t, "azure.identity", "azure.mgmt.resource")
	s := serve(t)
	var got struct {
		Created struct {
			ID, Location string
			Tags         map[string]string
		}
		Got               struct{ Tags map[string]string }
		Listed, Filtered  []string
		Resources         []string
		Exists            bool
		ExistsAfterDelete bool `json:"exists_after_delete"`
	}
	runPython(t, s, py, "secret", "resources.py", &got, "py-group")
	wantID := "/subscriptions/" + s.Info.SubscriptionID + "/resourceGroups/py-group"
	if !strings.EqualFold(got.Created.ID, wantID) || got.Created.Location != "westeurope" || got.Created.Tags["env"] != "dev" {
		t.Errorf("created %+v, want %s in westeurope tagged env=dev", got.Created, wantID)
	}
	if got.Got.Tags["env"] != "prod" {
		t.Errorf("after update tags %v, want env=prod", got.Got.Tags)
	}
	if !slices.Contains(got.Listed, "py-group") || !slices.Contains(got.Listed, "steward") {
		t.Errorf("list %v, want py-group and steward", got.Listed)
	}
	if !slices.Equal(got.Filtered, []string{"py-group"}) {
		t.Errorf("list filtered on env=prod %v, want [py-group]", got.Filtered)
	}
	vault := "/subscriptions/" + s.Info.SubscriptionID + "/resourceGroups/steward/providers/Microsoft.KeyVault/vaults/steward"
	if !slices.ContainsFunc(got.Resources, func(id string) bool { return strings.EqualFold(id, vault) }) {
		t.Errorf("resources %v, want the default vault %s", got.Resources, vault)
	}
	if !got.Exists || got.ExistsAfterDelete {
		t.Errorf("check_existence before delete %v, after %v; want true, false", got.Exists, got.ExistsAfterDelete)
	}
}

// TestPythonSDKQueriesLogs creates a workspace through ARM and runs a KQL
// query with LogsQueryClient pointed at Steward.
func TestPythonSDKQueriesLogs(t *testing.T) {
	t.Parallel()
	survey(t, pyDirect, "resources: begin_create_or_update_by_id", "logs query: LogsQueryClient query_workspace")
	py := pythonWith(t, "azure.identity", "azure.mgmt.resource", "azure.monitor.query")
	s := serve(t)
	var got struct {
		CustomerID string
		Status     string
		Rows       [][]any
	}
	runPython(t, s, py, "secret", "logs.py", &got, "py-logs", "py-ws")
	if got.CustomerID == "" || got.Status != "LogsQueryStatus.SUCCESS" {
		t.Errorf("workspace %q, status %q; want a customer ID and success", got.CustomerID, got.Status)
	}
	if len(got.Rows) != 1 || len(got.Rows[0]) != 1 || got.Rows[0][0] != float64(6) {
		t.Errorf("rows %v, want [[6]] (1+2+3)", got.Rows)
	}
}

// TestPythonDrivesGraphWithRawREST runs testdata/graph.py: Debian packages
// no msgraph SDK, so the script calls Steward's Graph with requests and an
// azure-identity token, the way Microsoft's REST samples do.
func TestPythonDrivesGraphWithRawREST(t *testing.T) {
	t.Parallel()
	py := pythonWith(t, "azure.identity", "requests")
	s := serve(t)
	var got struct {
		AppID, AppObjectID, SPID string
		FilteredApps, Members    []string
		ByIDs                    []string `json:"byIds"`
		Count, Pages             int
		NotFound                 struct {
			Status          int
			Code, RequestID string
		}
		NewAppToken string
	}
	runPython(t, s, py, "secret", "graph.py", &got, s.BaseURL+"graph/v1.0")
	if len(got.FilteredApps) != 1 || got.FilteredApps[0] != got.AppObjectID {
		t.Errorf("$filter=appId eq: %v, want [%s]", got.FilteredApps, got.AppObjectID)
	}
	if len(got.Members) != 1 || got.Members[0] != got.SPID {
		t.Errorf("transitiveMembers: %v, want [%s]", got.Members, got.SPID)
	}
	want := []string{"#microsoft.graph.group", "#microsoft.graph.servicePrincipal", "#microsoft.graph.user"}
	if !slices.Equal(got.ByIDs, want) {
		t.Errorf("getByIds types: %v, want %v", got.ByIDs, want)
	}
	if got.Count != 2 || got.Pages != 2 { // the administrator's app and py-app
		t.Errorf("$count %d over %d pages of $top=1, want 2 and 2", got.Count, got.Pages)
	}
	if got.NotFound.Status != 404 || got.NotFound.Code != "Request_ResourceNotFound" || got.NotFound.RequestID == "" {
		t.Errorf("error shape: %+v", got.NotFound)
	}
	p, err := s.Validator("https://management.azure.com").Validate(context.Background(), got.NewAppToken)
	if err != nil || p.AppID != got.AppID || p.ObjectID != got.SPID {
		t.Errorf("the new app's token: %+v, %v", p, err)
	}
}

// pyDirect is the survey's name for the Python SDK talking to Steward's
// own address, which needs base_url, the authority and no instance
// discovery (docs/interop.md).
const pyDirect = "Python SDK, direct (needs base_url, authority)"
