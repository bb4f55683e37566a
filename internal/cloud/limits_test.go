package cloud_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestInputLimitsAsAzures checks the documented limits on what ARM
// stores: tag counts and lengths, location strings, subscription display
// names; each violation is a 400 ARM error, each value at the limit is
// accepted.
func TestInputLimitsAsAzures(t *testing.T) {
	e := newEnv(t, unthrottled)
	admin := e.adminToken(t)
	sub := "/subscriptions/" + e.sub
	tags := func(n, nameLen, valueLen int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("t%03d", i)
			name += strings.Repeat("n", max(0, nameLen-len(name)))
			m[name] = strings.Repeat("v", valueLen)
		}
		return m
	}
	body := func(v map[string]any) []byte { b, _ := json.Marshal(v); return b }
	cases := []struct {
		name string
		path string
		body []byte
		want int
		code string
	}{
		{"50 tags", sub + "/resourcegroups/lim1", body(map[string]any{"location": "westeurope", "tags": tags(50, 4, 1)}), 201, ""},
		{"51 tags", sub + "/resourcegroups/lim2", body(map[string]any{"location": "westeurope", "tags": tags(51, 4, 1)}), 400, "InvalidTagCount"},
		{"tag name of 512", sub + "/resourcegroups/lim3", body(map[string]any{"location": "westeurope", "tags": tags(1, 512, 1)}), 201, ""},
		{"tag name of 513", sub + "/resourcegroups/lim4", body(map[string]any{"location": "westeurope", "tags": tags(1, 513, 1)}), 400, "InvalidTagNameCharacters"},
		{"tag value of 256", sub + "/resourcegroups/lim5", body(map[string]any{"location": "westeurope", "tags": tags(1, 4, 256)}), 201, ""},
		{"tag value of 257", sub + "/resourcegroups/lim6", body(map[string]any{"location": "westeurope", "tags": tags(1, 4, 257)}), 400, "InvalidTagValueLength"},
		{"location display name", sub + "/resourcegroups/lim7", body(map[string]any{"location": "West US 2"}), 201, ""},
		{"location of 65 characters", sub + "/resourcegroups/lim8", body(map[string]any{"location": strings.Repeat("l", 65)}), 400, "LocationNotAvailableForResourceType"},
		{"location with a NUL", sub + "/resourcegroups/lim9", body(map[string]any{"location": "west\x00us"}), 400, "LocationNotAvailableForResourceType"},
		{"location with markup", sub + "/resourcegroups/lim10", body(map[string]any{"location": "<b>westus</b>"}), 400, "LocationNotAvailableForResourceType"},
		{"subscription name of 64", "/subscriptions/00000000-0000-0000-0000-00000000aa01", body(map[string]any{"displayName": strings.Repeat("s", 64)}), 201, ""},
		{"subscription name of 65", "/subscriptions/00000000-0000-0000-0000-00000000aa02", body(map[string]any{"displayName": strings.Repeat("s", 65)}), 400, "InvalidSubscriptionName"},
		{"subscription with 51 tags", "/subscriptions/00000000-0000-0000-0000-00000000aa03", body(map[string]any{"displayName": "x", "tags": tags(51, 4, 1)}), 400, "InvalidTagCount"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, b := e.do(t, "PUT", c.path+"?api-version=2021-04-01", admin, c.body)
			if r.StatusCode != c.want {
				t.Fatalf("%d, want %d: %s", r.StatusCode, c.want, truncated(b))
			}
			if c.code != "" {
				var env struct{ Error struct{ Code string } }
				if err := json.Unmarshal(b, &env); err != nil || env.Error.Code != c.code {
					t.Fatalf("code %q, want %s: %s", env.Error.Code, c.code, truncated(b))
				}
			}
		})
	}
}
