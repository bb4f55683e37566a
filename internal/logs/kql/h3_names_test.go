package kql

import (
	"context"
	"strings"
	"testing"
)

// TestH3NamesKnown: with or without cgo every H3 function is a known name,
// so a query calling one never fails as an "unknown function".
func TestH3NamesKnown(t *testing.T) {
	for _, name := range h3Names {
		_, plain := funcs[name]
		_, governed := governedFuncs[name]
		if !plain && !governed {
			t.Errorf("%s is not registered", name)
		}
		_, err := Run(context.Background(), "print "+name+"('862a1072fffffff', 1, 2, 3, 4)", Options{})
		if err == nil || strings.Contains(err.Error(), "unknown function") {
			t.Errorf("%s with five arguments: %v", name, err)
		}
	}
}
