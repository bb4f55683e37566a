package armexpr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// dataURIPrefix is what dataUri puts before the base64 text.
const dataURIPrefix = "data:text/plain;charset=utf8;base64,"

func init() {
	register("base64", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := argString("base64", a, 0)
		return base64.StdEncoding.EncodeToString([]byte(s)), err
	})
	register("base64ToString", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		b, err := decodeBase64("base64ToString", a)
		if err != nil {
			return nil, err
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	})
	register("base64ToJson", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		b, err := decodeBase64("base64ToJson", a)
		if err != nil {
			return nil, err
		}
		return parseJSON("base64ToJson", b)
	})
	register("json", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := argString("json", a, 0)
		if err != nil {
			return nil, err
		}
		return parseJSON("json", []byte(s))
	})
	register("dataUri", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := toText(a[0])
		return dataURIPrefix + base64.StdEncoding.EncodeToString([]byte(s)), err
	})
	register("dataUriToString", 1, 1, fnDataURIToString)
	register("uri", 2, 2, fnURI)
	register("uriComponent", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := toText(a[0])
		return escapeDataString(s), err
	})
	register("uriComponentToString", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := argString("uriComponentToString", a, 0)
		if err != nil {
			return nil, err
		}
		out, uerr := url.PathUnescape(s)
		if uerr != nil {
			return nil, errorf(CodeInvalidArgument, "the template function 'uriComponentToString' got an invalid escape sequence: %v", uerr)
		}
		return out, nil
	})
}

// decodeBase64 accepts padded and unpadded standard base64.
func decodeBase64(fn string, a []any) ([]byte, error) {
	s, err := argString(fn, a, 0)
	if err != nil {
		return nil, err
	}
	b, derr := base64.StdEncoding.DecodeString(s)
	if derr != nil {
		if b, derr = base64.RawStdEncoding.DecodeString(s); derr != nil {
			return nil, errorf(CodeInvalidArgument, "the template function '%s' got a string that is not valid base64", fn)
		}
	}
	return b, nil
}

// parseJSON decodes one JSON value into the value model.
func parseJSON(fn string, b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(CodeInvalidArgument, "the template function '%s' got invalid JSON: json() could not parse it: %v", fn, err)
	}
	if dec.More() {
		return nil, errorf(CodeInvalidArgument, "the template function '%s' got invalid JSON: json() found text after the value", fn)
	}
	return Normalize(v), nil
}

// fnDataURIToString decodes "data:[mediatype][;base64],data".
func fnDataURIToString(_ *EvalContext, a []any) (any, error) {
	s, err := argString("dataUriToString", a, 0)
	if err != nil {
		return nil, err
	}
	meta, data, ok := strings.Cut(s, ",")
	if !ok || !strings.HasPrefix(strings.ToLower(meta), "data:") {
		return nil, errorf(CodeInvalidArgument, "the template function 'dataUriToString' got a string that is not a data URI")
	}
	if strings.HasSuffix(strings.ToLower(meta), ";base64") {
		b, derr := base64.StdEncoding.DecodeString(data)
		if derr != nil {
			return nil, errorf(CodeInvalidArgument, "the data URI given to 'dataUriToString' has invalid base64 data")
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	out, uerr := url.PathUnescape(data)
	if uerr != nil {
		return nil, errorf(CodeInvalidArgument, "the data URI given to 'dataUriToString' has an invalid escape sequence")
	}
	return out, nil
}

// fnURI resolves a relative URI against an absolute base (RFC 3986).
func fnURI(_ *EvalContext, a []any) (any, error) {
	base, rel, err := twoStrings("uri", a)
	if err != nil {
		return nil, err
	}
	b, perr := url.Parse(base)
	if perr != nil || !b.IsAbs() {
		return nil, errorf(CodeInvalidArgument, "the base URI %q given to 'uri' is not an absolute URI", base)
	}
	r, perr := url.Parse(rel)
	if perr != nil {
		return nil, errorf(CodeInvalidArgument, "the relative URI %q given to 'uri' is invalid", rel)
	}
	return b.ResolveReference(r).String(), nil
}

// escapeDataString percent-encodes everything but RFC 3986 unreserved
// characters, as .NET's Uri.EscapeDataString does.
func escapeDataString(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
