package arm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

type classed struct{ c Class }

func (e classed) Error() string { return "classed" }
func (e classed) Class() Class  { return e.c }

func TestAsErrorMapsClassesToStatuses(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"invalid, wrapped", fmt.Errorf("put: %w", classed{ClassInvalid}), http.StatusBadRequest},
		{"not found", classed{ClassNotFound}, http.StatusNotFound},
		{"conflict", classed{ClassConflict}, http.StatusConflict},
		{"precondition", classed{ClassPrecondition}, http.StatusPreconditionFailed},
		{"throttled", classed{ClassThrottled}, http.StatusTooManyRequests},
		{"unavailable", classed{ClassUnavailable}, http.StatusServiceUnavailable},
		{"cancelled", context.Canceled, http.StatusServiceUnavailable},
		{"internal class", classed{ClassInternal}, http.StatusInternalServerError},
		{"plain error", errors.New("disk on fire"), http.StatusInternalServerError},
		{"an *Error keeps its own", BadRequest("X", "y"), http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := AsError(c.err)
			if e.Status != c.want {
				t.Fatalf("status %d, want %d", e.Status, c.want)
			}
			if e.Status >= 500 && e.Message == c.err.Error() {
				t.Fatal("internal error text reached the client")
			}
		})
	}
}

func TestValidHost(t *testing.T) {
	cases := map[string]bool{
		"localhost": true, "localhost:8443": true, "management.azure.com": true, "127.0.0.1:443": true,
		"[::1]:8443": true, "[::1]": true, "a-b.example": true,
		"": false, "a b": false, "evil.example/x": false, "host:": false, "host:99999999": false,
		"[::1": false, "[zz]": false, "-lead": false, "host:80:80": false, "a\x00b": false, "user@host": false,
	}
	for h, want := range cases {
		if got := ValidHost(h); got != want {
			t.Errorf("ValidHost(%q) = %v, want %v", h, got, want)
		}
	}
}
