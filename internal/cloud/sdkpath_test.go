package cloud

import "testing"

func TestCanonicalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/subscriptions/s/resourceGroups/g":                               "/subscriptions/s/resourceGroups/g",
		"/%2Fsubscriptions%2Fs/providers/Microsoft.Authorization/locks/l": "/subscriptions/s/providers/Microsoft.Authorization/locks/l",
		"/%2fsubscriptions%2fs%2FresourceGroups%2Fg/providers/X.Y/z":      "/subscriptions/s/resourceGroups/g/providers/X.Y/z",
		"/%2Fsubscriptions%2Fs":                                           "/subscriptions/s",
		"/subscriptions/s/resourcegroups/g/providers/Microsoft.Web//sites/a/providers/Microsoft.Authorization/locks/l": "/subscriptions/s/resourcegroups/g/providers/Microsoft.Web/sites/a/providers/Microsoft.Authorization/locks/l",
		// escaped slashes inside names and other empty segments stay, to be refused
		"/subscriptions/s/resourceGroups/a%2Fb": "/subscriptions/s/resourceGroups/a%2Fb",
		"/subscriptions//resourceGroups/x":      "/subscriptions//resourceGroups/x",
		"/subscriptions/s/providers/X.Y//":      "/subscriptions/s/providers/X.Y//",
	} {
		if got := CanonicalPath(in); got != want {
			t.Errorf("CanonicalPath(%q) = %q, want %q", in, got, want)
		}
	}
}
