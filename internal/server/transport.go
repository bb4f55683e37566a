package server

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
)

// InProcessTransport is an azcore policy.Transporter (and an
// http.RoundTripper) that serves requests by calling Handler directly: no
// socket, no TLS handshake. Governance apps running inside `steward serve`
// give it to their Azure SDK clients (ClientOptions.Transport), so the same
// SDK code that talks to Azure talks to the embedded cloud in process.
//
// Requests with an https URL are presented to the handler as if they came
// over TLS (r.TLS is set), since the SDKs' bearer-token policy only sends
// tokens to https endpoints. Responses are buffered whole.
type InProcessTransport struct {
	Handler http.Handler
}

// Do implements policy.Transporter.
func (t InProcessTransport) Do(req *http.Request) (*http.Response, error) { return t.RoundTrip(req) }

// RoundTrip implements http.RoundTripper.
func (t InProcessTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.RemoteAddr = "in-process:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	if req.URL.Scheme == "https" {
		in.TLS = &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13, ServerName: req.URL.Hostname()}
	}
	rec := &recorder{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("in-process transport: handler panic: %v", p)
		}
	}()
	t.Handler.ServeHTTP(rec, in)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	body := rec.body.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// recorder is a minimal buffering http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
