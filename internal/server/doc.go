// Package server assembles Steward's embedded cloud into one HTTPS
// endpoint: configuration, the local certificate authority, path-prefix
// routing to the services (token service, management API, vault, logs),
// the middleware every request passes (request ID, structured logs,
// Prometheus metrics, panic recovery, body size limits), health and
// readiness probes, graceful shutdown, and an azcore transport that serves
// Azure SDK requests from the handler in process, without a socket.
package server
