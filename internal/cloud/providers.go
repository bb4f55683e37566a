package cloud

import (
	"context"
	"net/http"
)

// serveProvider answers GET {scope}/providers/{namespace} and POST
// .../register: every namespace is registered in Steward, since generic
// resources of any type are accepted, and registering changes nothing.
func (c *Cloud) serveProvider(_ context.Context, call *Call) (*Response, error) {
	if (call.Method != http.MethodGet || call.Target.Action != "") && (call.Method != http.MethodPost || call.Target.Action == "") {
		return nil, methodNotAllowed(call.Method)
	}
	ns := call.Target.Name
	return &Response{Status: http.StatusOK, Body: map[string]any{
		"id": call.Target.ID, "namespace": ns, "registrationState": "Registered",
		"registrationPolicy": "RegistrationRequired", "resourceTypes": []any{},
	}}, nil
}
