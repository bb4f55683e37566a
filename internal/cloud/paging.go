package cloud

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// Page sizes of every list: DefaultPageSize items unless $top asks for
// fewer or more, never more than MaxPageSize.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// List is ARM's list envelope.
type List struct {
	Value    []any  `json:"value"`
	NextLink string `json:"nextLink,omitempty"`
}

// Paging reads $top (the page size) and $skiptoken (the continuation
// token of a nextLink) from the call.
func (c *Call) Paging() (size int, after string, err error) {
	size = DefaultPageSize
	if t := c.Query.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return 0, "", arm.BadRequest("InvalidTopParameter", "The value '%s' of the $top query parameter is invalid: it must be a positive integer.", truncate(t, 20))
		}
		size = min(n, MaxPageSize)
	}
	if s := c.Query.Get("$skiptoken"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			return 0, "", invalidSkipToken()
		}
		after = string(b)
	}
	return size, after, nil
}

func invalidSkipToken() *arm.Error {
	return arm.BadRequest("InvalidSkipToken", "The $skiptoken query parameter is invalid or has expired.")
}

// NextLink is the URL of the page after this one, continuing at token, or
// "" when token is "" (the last page). It keeps the request's other query
// parameters.
func (c *Call) NextLink(token string) string {
	if token == "" {
		return ""
	}
	q := url.Values{}
	for k, vs := range c.Query {
		if !strings.EqualFold(k, "$skiptoken") {
			q[k] = vs
		}
	}
	q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(token)))
	return c.baseURL() + c.HTTP.URL.EscapedPath() + "?" + q.Encode()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
