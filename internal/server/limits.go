package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// Header size limits. Requests whose request line and headers exceed
// headerLimit get a 431 in the ARM envelope from withHeaderLimit; Go's own
// limit, which answers in plain text before any handler runs, is set far
// above it so that only absurd requests meet it.
const (
	headerLimit     = 64 << 10
	hardHeaderLimit = 1 << 20
)

func (s *Server) headerLimit() int { return headerLimit }

// withHeaderLimit answers 431 (ARM envelope) for a request whose request
// line and headers take more than max bytes.
func withHeaderLimit(max int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > max {
			arm.WriteError(w, arm.Errorf(http.StatusRequestHeaderFieldsTooLarge, "RequestHeaderFieldsTooLarge",
				"The request line and headers take %d bytes, more than the limit of %d bytes.", n, max))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withBodyDeadline gives a request with a body timeout to send it, from
// the moment its handler starts. A client that trickles its body past the
// deadline gets its connection (HTTP/1) or stream (HTTP/2) ended, so a slow
// sender cannot hold a connection forever. Once the body is read to its
// end the deadline is lifted, so a long-running handler (a query that waits)
// keeps its connection.
func withBodyDeadline(timeout time.Duration, next http.Handler) http.Handler {
	if timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			// A writer without deadlines (an in-process transport): nothing
			// to bound.
			next.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline when the body has been read to its
// end.
type deadlineBody struct {
	io.ReadCloser
	once sync.Once
	lift func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.once.Do(b.lift)
	}
	return n, err
}

// LimitConnsPerIP returns a listener that keeps at most max connections
// open per client IP address: a connection beyond the cap is closed as soon
// as it is accepted. max <= 0 returns ln unchanged.
func LimitConnsPerIP(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &perIPListener{Listener: ln, max: max, open: map[string]int{}}
}

type perIPListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

// Accept returns the next connection whose address is under the cap.
func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := c.RemoteAddr().String()
		if host, _, err := net.SplitHostPort(ip); err == nil {
			ip = host
		}
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

func (l *perIPListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// countedConn gives its slot back once, on the first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
