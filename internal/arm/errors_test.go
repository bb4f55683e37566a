package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriteErrorEnvelope(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"arm error", NotFound("ResourceGroupNotFound", "Resource group 'x' could not be found."), 404, "ResourceGroupNotFound"},
		{"wrapped", fmt.Errorf("ctx: %w", BadRequest("InvalidRequestContent", "bad")), 400, "InvalidRequestContent"},
		{"internal hidden", errors.New("database password=hunter2 failed"), 500, "InternalServerError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.err)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			var env struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatal(err)
			}
			if env.Error.Code != tt.wantCode {
				t.Errorf("code = %q, want %q", env.Error.Code, tt.wantCode)
			}
			if tt.wantStatus == http.StatusInternalServerError && env.Error.Message != ErrInternal.Message {
				t.Errorf("internal message leaked: %q", env.Error.Message)
			}
		})
	}
}
