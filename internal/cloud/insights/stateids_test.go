package insights

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/policy"
)

// TestStoredIDsComeBackFromTheKey: a state whose resource and assignment
// IDs are its key's but for ASCII letters' case is stored without them
// and decodes to the same state; any other spelling is stored as it is.
func TestStoredIDsComeBackFromTheKey(t *testing.T) {
	const sub = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"
	cases := []struct {
		name, resource, assignment string
		// stored without the resource ID, the assignment ID
		shortR, shortA bool
	}{
		{"mixed case", sub + "/resourceGroups/RG-One/providers/Microsoft.Web/sites/Site1",
			sub + "/providers/Microsoft.Authorization/policyAssignments/Audit-HTTPS", true, true},
		{"lower case", sub + "/resourcegroups/rg/providers/microsoft.web/sites/s",
			sub + "/providers/microsoft.authorization/policyassignments/a", true, true},
		{"non-ASCII name", sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/Säte",
			sub + "/providers/Microsoft.Authorization/policyAssignments/Ä", false, false},
		{"trailing slash", sub + "/resourceGroups/rg/",
			sub + "/providers/Microsoft.Authorization/policyAssignments/a", false, true},
		{"a bar in the resource name", sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/a|b",
			sub + "/providers/Microsoft.Authorization/policyAssignments/a", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &State{Timestamp: time.UnixMilli(1796600399453).UTC(), ResourceID: c.resource,
				ResourceType: "Microsoft.Web/sites", Location: "westeurope", Tags: map[string]string{"env": "prod"},
				AssignmentID: c.assignment, DefinitionID: sub + "/providers/Microsoft.Authorization/policyDefinitions/d",
				State: policy.StateNonCompliant, ManagementGroups: []string{"root"}}
			key := stateKeyIn(resourcePrefix(c.resource), lowerASCII(c.assignment), "")
			b, err := s.encode(key)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(`"r":`)) == c.shortR || bytes.Contains(b, []byte(`"a":`)) == c.shortA {
				t.Errorf("stored %s: want the resource ID left out %v, the assignment ID %v", b, c.shortR, c.shortA)
			}
			got, err := decodeState(key, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Errorf("decoded %+v, want %+v", *got, *s)
			}
			lite, err := decodeLite(key, b, interner{})
			if err != nil {
				t.Fatal(err)
			}
			if lite.ResourceID != c.resource || lite.AssignmentID != c.assignment {
				t.Errorf("decodeLite: %q, %q", lite.ResourceID, lite.AssignmentID)
			}
		})
	}
}

// lowerASCII is strings.ToLower for the test's IDs.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestStatesStoredWithTheirIDsStillDecode: values written before the IDs
// were left out (with "r" and "a") decode as they did.
func TestStatesStoredWithTheirIDsStillDecode(t *testing.T) {
	key := "/subscriptions/s/resourcegroups/rg/providers/microsoft.web/sites/x|/subscriptions/s/providers/microsoft.authorization/policyassignments/a00|"
	v := []byte(`{"t":1796600399453,"r":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/X","rt":"Microsoft.Web/sites","l":"westeurope","a":"/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/A00","d":"/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/def00","c":"Compliant","m":["root"]}`)
	s, err := decodeState(key, v)
	if err != nil {
		t.Fatal(err)
	}
	if s.ResourceID != "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/X" ||
		s.AssignmentID != "/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/A00" {
		t.Errorf("decoded %q, %q", s.ResourceID, s.AssignmentID)
	}
}

// TestCorruptCaseOffsetsAreAnError: offsets that do not fit the key make
// the state undecodable (its readers skip it with a warning), never a
// wrong ID or a panic.
func TestCorruptCaseOffsetsAreAnError(t *testing.T) {
	key := "/subscriptions/s/resourcegroups/rg|/subscriptions/s/providers/microsoft.authorization/policyassignments/a|"
	for _, v := range []string{`{"t":1,"ru":[999],"d":"d","c":"Compliant"}`, `{"t":1,"ru":[0],"d":"d","c":"Compliant"}`,
		`{"t":1,"ru":[3,2],"d":"d","c":"Compliant"}`, `{"t":1,"au":[-1],"d":"d","c":"Compliant"}`} {
		if s, err := decodeState(key, []byte(v)); err == nil {
			t.Errorf("%s decoded to %q, %q", v, s.ResourceID, s.AssignmentID)
		}
	}
	if s, err := decodeState("no-bar", []byte(`{"t":1,"d":"d","c":"Compliant"}`)); err == nil {
		t.Errorf("a key without parts decoded to %+v", s)
	}
}
