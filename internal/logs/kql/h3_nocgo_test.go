//go:build !cgo

package kql

import (
	"context"
	"strings"
	"testing"
)

// TestH3WithoutCgo: built without cgo, every H3 function is refused at
// compile time with the reason.
func TestH3WithoutCgo(t *testing.T) {
	for _, name := range h3Names {
		_, err := Run(context.Background(), "print "+name+"('862a1072fffffff')", Options{})
		if err == nil || !strings.Contains(err.Error(), "built without cgo: H3 functions unavailable") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
