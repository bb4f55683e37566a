package abac

import (
	"strings"
	"testing"
	"time"
)

const (
	writeAction  = "Microsoft.Authorization/roleAssignments/write"
	deleteAction = "Microsoft.Authorization/roleAssignments/delete"
	attrRole     = "Microsoft.Authorization/roleAssignments:RoleDefinitionId"
	attrPrinc    = "Microsoft.Authorization/roleAssignments:PrincipalId"
	attrType     = "Microsoft.Authorization/roleAssignments:PrincipalType"
)

// assignmentEnv builds the environment of a role-assignment write (request
// attributes) or delete (resource attributes).
func assignmentEnv(action, role, principal, ptype string) *Env {
	env := &Env{Action: action}
	src := Request
	if action == deleteAction {
		src = Resource
	}
	env.Set(src, attrRole, role)
	env.Set(src, attrPrinc, principal)
	env.Set(src, attrType, ptype)
	return env
}

func TestDelegationExamplesAllowAndRefuse(t *testing.T) {
	type tc struct {
		action, role, principal, ptype string
		want                           bool
	}
	cases := map[string][]tc{
		condConstrainRoles: {
			{writeAction, backupContributor, someoneElse, "User", true},
			{writeAction, backupReader, someoneElse, "ServicePrincipal", true},
			{writeAction, ownerRole, someoneElse, "User", false},
			{deleteAction, backupReader, someoneElse, "User", true},
			{deleteAction, contributorRole, someoneElse, "User", false},
			{"Microsoft.Compute/virtualMachines/read", ownerRole, someoneElse, "User", true},
		},
		condRolesAndPrincipalTypes: {
			{writeAction, backupContributor, someoneElse, "user", true},
			{writeAction, backupContributor, someoneElse, "Group", true},
			{writeAction, backupContributor, someoneElse, "ServicePrincipal", false},
			{writeAction, ownerRole, someoneElse, "User", false},
			{deleteAction, backupReader, someoneElse, "Group", true},
			{deleteAction, backupReader, someoneElse, "ServicePrincipal", false},
		},
		condRolesAndPrincipals: {
			{writeAction, backupContributor, marketingGroup, "Group", true},
			{writeAction, backupReader, strings.ToUpper(salesGroup), "Group", true},
			{writeAction, backupReader, someoneElse, "Group", false},
			{writeAction, ownerRole, marketingGroup, "Group", false},
			{deleteAction, backupReader, salesGroup, "Group", true},
			{deleteAction, backupReader, someoneElse, "Group", false},
		},
		condAcrPullToServicePrincipals: {
			{writeAction, acrPull, someoneElse, "ServicePrincipal", true},
			{writeAction, acrPull, someoneElse, "User", false},
			{writeAction, backupReader, someoneElse, "ServicePrincipal", false},
			{deleteAction, acrPull, someoneElse, "ServicePrincipal", true},
			{deleteAction, acrPull, someoneElse, "Group", false},
		},
		condAddOnly: {
			{writeAction, backupReader, someoneElse, "User", true},
			{writeAction, ownerRole, someoneElse, "User", false},
			{deleteAction, ownerRole, someoneElse, "User", true},
		},
		condAllButPrivileged: {
			{writeAction, contributorRole, someoneElse, "User", true},
			{writeAction, backupReader, someoneElse, "Group", true},
			{writeAction, ownerRole, someoneElse, "User", false},
			{writeAction, strings.ToUpper(rbacAdminRole), someoneElse, "User", false},
			{writeAction, uaaRole, someoneElse, "User", false},
			{deleteAction, uaaRole, someoneElse, "User", false},
			{deleteAction, contributorRole, someoneElse, "User", true},
		},
		condKeyVaultDataAccessAdmin: {
			{writeAction, kvSecretsUser, someoneElse, "User", true},
			{writeAction, kvAdministrator, someoneElse, "Group", true},
			{writeAction, ownerRole, someoneElse, "User", false},
			{writeAction, contributorRole, someoneElse, "User", false},
			{deleteAction, kvSecretsUser, someoneElse, "User", true},
			{deleteAction, uaaRole, someoneElse, "User", false},
		},
	}
	for name, cond := range docExamples {
		x, err := Parse(cond)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		list := cases[cond]
		var allowed, refused int
		for _, c := range list {
			got, err := Eval(x, assignmentEnv(c.action, c.role, c.principal, c.ptype))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if got != c.want {
				t.Errorf("%s: %s role %s to %s %s = %v, want %v", name, c.action, c.role, c.ptype, c.principal, got, c.want)
			}
			if c.want {
				allowed++
			} else {
				refused++
			}
		}
		if allowed == 0 || refused == 0 {
			t.Errorf("%s: needs both allowed and refused cases (have %d, %d)", name, allowed, refused)
		}
	}
}

func TestOperatorExamplesFromDocs(t *testing.T) {
	cases := []struct {
		cond   string
		action string
		want   bool
	}{
		{`ActionMatches{'Microsoft.Authorization/roleAssignments/*'}`, writeAction, true},
		{`ActionMatches{'Microsoft.Authorization/roleDefinitions/*'}`, writeAction, false},
		{`@Resource[name1] StringLike 'a*c?'`, "", true},
		{`@Resource[name1] StringLike 'A*C?'`, "", false},
		{`@Resource[name1] StringLikeIgnoreCase 'A*C?'`, "", true},
		{`@Resource[name1] StringLike 'a*c'`, "", false},
		{`{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'blue', 'green'}`, "", true},
		{`{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'orange', 'green'}`, "", false},
		{`{'red', 'blue'} ForAllOfAnyValues:StringEquals {'orange', 'red', 'blue'}`, "", true},
		{`{'red', 'blue'} ForAllOfAnyValues:StringEquals {'red', 'green'}`, "", false},
		{`{10, 20} ForAnyOfAllValues:NumericLessThan {15, 18}`, "", true},
		{`{10, 20} ForAllOfAllValues:NumericLessThan {5, 15, 18}`, "", false},
		{`{10, 20} ForAllOfAllValues:NumericLessThan {25, 30}`, "", true},
		{`{10, 20} ForAllOfAllValues:NumericLessThan {15, 25, 30}`, "", false},
	}
	for _, c := range cases {
		x, err := Parse(c.cond)
		if err != nil {
			t.Fatalf("%s: %v", c.cond, err)
		}
		env := &Env{Action: c.action}
		env.Set(Resource, "name1", "abcd")
		got, err := Eval(x, env)
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.cond, got, err, c.want)
		}
	}
}

func TestOperatorFamilies(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	env := &Env{Action: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", SubOperation: "Blob.List", Now: now}
	env.Set(Resource, "Microsoft.Storage/storageAccounts/blobServices/containers:name", "Logs-2026")
	env.Set(Request, "count", "42")
	env.Set(Request, "tags", "a", "b")
	env.Set(Principal, "Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project", "Cascade", "Baker")
	env.Set(Resource, "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>", "Cascade")
	env.Set(Environment, "isPrivateLink", "True")
	env.Set(Request, "when", "2026-01-02T03:04:05.0000000Z")
	cases := []struct {
		cond string
		want bool
	}{
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'Logs-2026'`, true},
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs-2026'`, false},
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEqualsIgnoreCase 'logs-2026'`, true},
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals 'x'`, true},
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringStartsWith 'Logs-'`, true},
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotStartsWithIgnoreCase 'LOGS'`, false},
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotLike 'Logs-*'`, false},
		{`@Request[count] NumericGreaterThan 41 && @Request[count] NumericLessThanEquals 42`, true},
		{`@Request[count] NumericNotEquals 42`, false},
		{`@Environment[UtcNow] DateTimeGreaterThan '2026-11-22T07:59:59.0000000Z'`, true},
		{`@Environment[UtcNow] DateTimeLessThan '2026-11-22T07:59:59Z'`, false},
		{`@Request[when] DateTimeEquals '2026-01-02T03:04:05Z'`, true},
		{`@Environment[isPrivateLink] BoolEquals true`, true},
		{`@Environment[isPrivateLink] BoolNotEquals true`, false},
		{`Exists @Request[count]`, true},
		{`NOT Exists @Request[missing]`, true},
		{`SubOperationMatches{'Blob.List'}`, true},
		{`@Request[subOperation] ForAnyOfAnyValues:StringEqualsIgnoreCase {'blob.list'}`, true},
		{`!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})`, true},
		{`@Request[tags] ForAllOfAnyValues:StringEquals {'a', 'b', 'c'}`, true},
		{`@Request[tags] ForAllOfAllValues:StringNotEquals {'c', 'd'}`, true},
		{`@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] ForAnyOfAnyValues:StringEquals @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]`, true},
		{`@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringLike 'Logs\*'`, false},
		{`(@Request[count] NumericEquals 1 OR @Request[count] NumericEquals 42) AND Exists @Request[tags]`, true},
	}
	for _, c := range cases {
		x, err := Parse(c.cond)
		if err != nil {
			t.Fatalf("%s: %v", c.cond, err)
		}
		got, err := Eval(x, env)
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.cond, got, err, c.want)
		}
	}
}

func TestEvalErrorsAreReported(t *testing.T) {
	env := &Env{}
	env.Set(Request, "n", "not-a-number")
	env.Set(Request, "multi", "a", "b")
	for _, cond := range []string{
		`@Request[n] NumericEquals 1`,
		`@Request[multi] StringEquals 'a'`,
		`@Request[n] GuidEquals 28c35fea-2099-4cf5-8ad9-473547bc9423`,
		`@Request[missing] StringNotEquals 'x'`,
		`!(@Request[missing] StringEquals 'x')`,
	} {
		x, err := Parse(cond)
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		if ok, err := Eval(x, env); ok || err == nil {
			t.Errorf("%s = %v, %v; want an evaluation error", cond, ok, err)
		}
	}
}

func TestLikeEscapes(t *testing.T) {
	cases := []struct {
		s, pattern string
		want       bool
	}{
		{"a*b", `a\*b`, true},
		{"axb", `a\*b`, false},
		{"a?", `a\?`, true},
		{"ab", `a\?`, false},
		{"", `*`, true},
		{"abc", `a**c`, true},
		{"abcabd", `*ab?`, true},
		{"abc", `?`, false},
	}
	for _, c := range cases {
		if got := like(c.s, c.pattern, false); got != c.want {
			t.Errorf("like(%q, %q) = %v, want %v", c.s, c.pattern, got, c.want)
		}
	}
}
