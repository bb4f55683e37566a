package kql

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // datetime_utc_to_local needs the IANA zones on any machine
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// Strings, hashes, bits, URLs and paths, JSON paths, time zones, and the
// series reductions.

func init() {
	// hash(value [, mod]) is xxHash64 of the value's UTF-8 text (the
	// reference's hash("World") = 1846988464401551951 and, mod 100, 51),
	// of a datetime's 8 little-endian bytes of ticks (its
	// hash(datetime("2015-01-01")) = 1380966698541616202)
	register(fixed(1, 2, ret(TypeLong), func(_ Type, v []Value) Value {
		if v[0].IsNull() && v[0].T != TypeString {
			return Null(TypeLong)
		}
		var h int64
		if v[0].T == TypeDateTime {
			h = int64(xxhash.Sum64(binary.LittleEndian.AppendUint64(nil, uint64(v[0].i))))
		} else {
			h = int64(xxhash.Sum64String(stringOf(v[0])))
		}
		if len(v) > 1 {
			m, ok := intArg(v, 1, 0)
			if !ok || m <= 0 {
				return Null(TypeLong)
			}
			h = int64(uint64(h) % uint64(m))
		}
		return Long(h)
	}), "hash", "hash_xxhash64")
	register(strFn(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }), "hash_md5")
	register(strFn(func(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }), "hash_sha1")

	// tohex(n [, minLength]): two's complement for negative numbers
	register(fixed(1, 2, ret(TypeString), func(_ Type, v []Value) Value {
		n := scalarOf(v[0])
		if n.IsNull() || !isIntegral(n.T) {
			return Null(TypeString)
		}
		s := strconv.FormatUint(uint64(n.i), 16)
		if n.T == TypeInt && n.i < 0 {
			s = strconv.FormatUint(uint64(uint32(n.i)), 16)
		}
		if w, ok := intArg(v, 1, 0); ok && int(w) > len(s) {
			s = strings.Repeat("0", int(w)-len(s)) + s
		}
		return String(s)
	}), "tohex")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) != 0 {
			return cexpr{}, errAt(call, "new_guid takes no arguments")
		}
		return cexpr{t: TypeGuid, f: func(Row) Value {
			var b [16]byte
			_, _ = rand.Read(b[:])
			b[6] = b[6]&0x0f | 0x40
			b[8] = b[8]&0x3f | 0x80
			return Guid(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
		}}, nil
	}, "new_guid")

	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value {
		for _, r := range str(v, 0) {
			if r > 127 {
				return Bool(false)
			}
		}
		return Bool(true)
	}), "isascii")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value { return Bool(utf8.ValidString(str(v, 0))) }), "isutf8")

	// indexof_regex(source, regex [, start [, length [, occurrence]]])
	register(fixed(2, 5, ret(TypeLong), func(_ Type, v []Value) Value {
		re, err := regexp.Compile(str(v, 1))
		if err != nil {
			return Null(TypeLong)
		}
		src := str(v, 0)
		start, ok1 := intArg(v, 2, 0)
		length, ok2 := intArg(v, 3, -1)
		occ, ok3 := intArg(v, 4, 1)
		if !ok1 || !ok2 || !ok3 || start < 0 || occ < 1 || length < -1 {
			return Null(TypeLong)
		}
		if int(start) > len(src) {
			return Long(-1)
		}
		s := src[start:]
		if length >= 0 && int(length) < len(s) {
			s = s[:length]
		}
		m := re.FindAllStringIndex(s, int(occ))
		if len(m) < int(occ) {
			return Long(-1)
		}
		return Long(start + int64(m[occ-1][0]))
	}), "indexof_regex")
	register(strFn(regexp.QuoteMeta), "regex_quote")

	// translate(searchList, replacementList, source): characters of the
	// search list become the replacement's character at the same place,
	// its last when the replacement is shorter, nothing when it is empty
	register(fixed(3, 3, ret(TypeString), func(_ Type, v []Value) Value {
		from, to := []rune(str(v, 0)), []rune(str(v, 1))
		var b strings.Builder
		for _, r := range str(v, 2) {
			i := -1
			for k, f := range from {
				if f == r {
					i = k
					break
				}
			}
			switch {
			case i < 0:
				b.WriteRune(r)
			case len(to) == 0:
			case i < len(to):
				b.WriteRune(to[i])
			default:
				b.WriteRune(to[len(to)-1])
			}
		}
		return String(b.String())
	}), "translate")

	register(dynFn(1, 1, func(v []Value) Value {
		s := str(v, 0)
		out := make([]any, len(s))
		for i := 0; i < len(s); i++ {
			out[i] = int64(s[i])
		}
		return Dynamic(out)
	}), "to_utf8")
	register(dynFn(1, 1, func(v []Value) Value {
		var out []any
		for _, r := range str(v, 0) {
			out = append(out, int64(r))
		}
		if out == nil {
			out = []any{}
		}
		return Dynamic(out)
	}), "unicode_codepoints_from_string")
	codepoints := func(v []Value) Value {
		var b strings.Builder
		for _, x := range v {
			if a, ok := seriesNums(x); ok {
				for _, e := range a {
					s := scalarOf(Dynamic(e))
					if s.IsNull() || !isIntegral(s.T) || s.i < 0 || s.i > utf8.MaxRune {
						return Null(TypeString)
					}
					b.WriteRune(rune(s.i))
				}
				continue
			}
			s := scalarOf(x)
			if s.IsNull() || !isIntegral(s.T) || s.i < 0 || s.i > utf8.MaxRune {
				return Null(TypeString)
			}
			b.WriteRune(rune(s.i))
		}
		return String(b.String())
	}
	register(fixed(1, -1, ret(TypeString), func(_ Type, v []Value) Value { return codepoints(v) }), "make_string", "unicode_codepoints_to_string")

	// format_bytes(size [, precision [, units [, base]]])
	register(fixed(1, 4, ret(TypeString), func(_ Type, v []Value) Value {
		n := scalarOf(v[0])
		if n.IsNull() {
			return String("")
		}
		prec, ok1 := intArg(v, 1, 0)
		unit := strings.ToUpper(str(v, 2))
		base, ok2 := intArg(v, 3, 1024)
		if !ok1 || !ok2 || (base != 1000 && base != 1024) || prec < 0 || prec > 10 {
			return String("")
		}
		return String(formatBytes(n.AsReal(), int(prec), unit, float64(base)))
	}), "format_bytes")

	register(dynFn(1, 1, func(v []Value) Value { return Dynamic(parseURL(str(v, 0))) }), "parse_url")
	register(dynFn(1, 1, func(v []Value) Value { return Dynamic(parsePath(str(v, 0))) }), "parse_path")

	// extract_json(path, json [, typeof(T)]); extractjson is its old name
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) < 2 || len(args) > 3 {
			return cexpr{}, errAt(call, "%s takes 2 or 3 arguments, got %d", call.Name, len(args))
		}
		t := TypeString
		if len(args) == 3 {
			tn, ok := typeArgName(call.Args[2])
			if !ok {
				return cexpr{}, errAt(call, "%s's third argument must be typeof(T)", call.Name)
			}
			t = typeByName[tn]
		}
		return evalN(t, args[:2], func(t Type, v []Value) Value {
			doc, err := ParseJSON(str(v, 1))
			if err != nil {
				return Null(t)
			}
			x, ok := jsonPath(doc, str(v, 0))
			if !ok {
				return Null(t)
			}
			if t == TypeDynamic {
				return Dynamic(x)
			}
			if t == TypeString {
				if s, ok := x.(string); ok {
					return String(s)
				}
				return String(stringOf(Dynamic(x)))
			}
			return castTo(scalarOf(Dynamic(x)), t)
		}), nil
	}, "extract_json", "extractjson")

	// bitwise functions over long values
	bin2 := func(f func(a, b int64) int64) fnImpl {
		return fixed(2, 2, ret(TypeLong), func(_ Type, v []Value) Value {
			a, b := scalarOf(v[0]), scalarOf(v[1])
			if a.IsNull() || b.IsNull() || !isIntegral(a.T) || !isIntegral(b.T) {
				return Null(TypeLong)
			}
			return Long(f(a.i, b.i))
		})
	}
	register(bin2(func(a, b int64) int64 { return a & b }), "binary_and")
	register(bin2(func(a, b int64) int64 { return a | b }), "binary_or")
	register(bin2(func(a, b int64) int64 { return a ^ b }), "binary_xor")
	register(bin2(func(a, b int64) int64 { return int64(uint64(a) << (uint64(b) & 63)) }), "binary_shift_left")
	register(bin2(func(a, b int64) int64 { return int64(uint64(a) >> (uint64(b) & 63)) }), "binary_shift_right")
	register(fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value {
		a := scalarOf(v[0])
		if a.IsNull() || !isIntegral(a.T) {
			return Null(TypeLong)
		}
		return Long(^a.i)
	}), "binary_not")
	register(fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value {
		a := scalarOf(v[0])
		if a.IsNull() || !isIntegral(a.T) {
			return Null(TypeLong)
		}
		return Long(int64(bits.OnesCount64(uint64(a.i))))
	}), "bitset_count_ones")

	// datetime_utc_to_local(datetime, zone) and datetime_local_to_utc
	zoned := func(toLocal bool) fnImpl {
		return fixed(2, 2, ret(TypeDateTime), func(_ Type, v []Value) Value {
			d := scalarOf(v[0])
			if d.IsNull() || d.T != TypeDateTime {
				return Null(TypeDateTime)
			}
			loc, err := time.LoadLocation(str(v, 1))
			if err != nil {
				return Null(TypeDateTime)
			}
			t := ticksToTime(d.i)
			frac := d.i % ticksPerSecond
			if toLocal {
				_, off := t.In(loc).Zone()
				return DateTime(d.i + int64(off)*ticksPerSecond)
			}
			wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc)
			return DateTime(timeToTicks(wall.UTC()) + frac)
		})
	}
	register(zoned(true), "datetime_utc_to_local")
	register(zoned(false), "datetime_local_to_utc")

	// series reductions
	reduce := func(f func(xs []float64) float64) fnImpl {
		return fixed(1, 1, ret(TypeReal), func(_ Type, v []Value) Value {
			xs, ok := numbersSkippingNulls(v[0])
			if !ok {
				return Null(TypeReal)
			}
			return realOrNull(f(xs))
		})
	}
	register(reduce(func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s
	}), "series_sum")
	register(reduce(func(xs []float64) float64 {
		p := 1.0
		for _, x := range xs {
			p *= x
		}
		return p
	}), "series_product")
	register(reduce(func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x * x
		}
		return math.Sqrt(s)
	}), "series_magnitude")
	pair := func(f func(a, b []float64) float64) fnImpl {
		return fixed(2, 2, ret(TypeReal), func(_ Type, v []Value) Value {
			a, ok1 := floats(v[0])
			b, ok2 := floats(v[1])
			if !ok1 || !ok2 || len(a) != len(b) {
				return Null(TypeReal)
			}
			return realOrNull(f(a, b))
		})
	}
	dot := func(a, b []float64) float64 {
		s := 0.0
		for i := range a {
			s += a[i] * b[i]
		}
		return s
	}
	register(pair(dot), "series_dot_product")
	register(pair(func(a, b []float64) float64 {
		return dot(a, b) / (math.Sqrt(dot(a, a)) * math.Sqrt(dot(b, b)))
	}), "series_cosine_similarity")
	register(dynFn(2, 2, func(v []Value) Value {
		a, ok := seriesNums(v[0])
		e := scalarOf(v[1])
		if !ok || e.IsNull() {
			return Null(TypeDynamic)
		}
		out := make([]any, len(a))
		for i, x := range a {
			s := scalarOf(Dynamic(x))
			if x == nil || s.IsNull() {
				continue
			}
			out[i] = bagNum(math.Pow(s.AsReal(), e.AsReal()))
		}
		return Dynamic(out)
	}), "series_pow")
}

func realOrNull(x float64) Value {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Null(TypeReal)
	}
	return Real(x)
}

// numbersSkippingNulls reads a series' numeric elements, leaving out nulls.
func numbersSkippingNulls(v Value) ([]float64, bool) {
	a, ok := seriesNums(v)
	if !ok {
		return nil, false
	}
	out := make([]float64, 0, len(a))
	for _, x := range a {
		s := scalarOf(Dynamic(x))
		if x == nil || s.IsNull() {
			continue
		}
		out = append(out, s.AsReal())
	}
	return out, true
}

// typeArgName reads typeof(T) as the lower-case type name.
func typeArgName(x Expr) (string, bool) {
	c, ok := x.(*Call)
	if !ok || c.Name != "typeof" || len(c.Args) != 1 {
		return "", false
	}
	id, ok := c.Args[0].(*Ident)
	if !ok {
		return "", false
	}
	n := strings.ToLower(id.Name)
	if typeByName[n] == TypeUnknown {
		return "", false
	}
	return n, true
}

// formatBytes writes a size with the largest unit that keeps it at 1 or
// more (or the unit asked for), rounded to prec decimals.
func formatBytes(n float64, prec int, unit string, base float64) string {
	units := []string{"Bytes", "KB", "MB", "GB", "TB", "PB", "EB"}
	i := 0
	if unit != "" {
		i = -1
		for k, u := range units {
			if strings.EqualFold(u, unit) || (k == 0 && strings.EqualFold(unit, "B")) {
				i = k
			}
		}
		if i < 0 {
			return ""
		}
		n /= math.Pow(base, float64(i))
	} else {
		for math.Abs(n) >= base && i < len(units)-1 {
			n /= base
			i++
		}
	}
	return strconv.FormatFloat(roundTo(n, prec), 'f', -1, 64) + " " + units[i]
}

func roundTo(x float64, prec int) float64 {
	p := math.Pow(10, float64(prec))
	return math.Round(x*p) / p
}

// parseURL splits an absolute URL into Kusto's parts; anything else is an
// empty bag.
func parseURL(s string) *Bag {
	b := NewBag()
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return b
	}
	pass, _ := u.User.Password()
	b.Set("Scheme", u.Scheme)
	b.Set("Host", u.Hostname())
	b.Set("Port", u.Port())
	b.Set("Path", u.EscapedPath())
	b.Set("Username", u.User.Username())
	b.Set("Password", pass)
	b.Set("Query Parameters", queryParams(u.RawQuery))
	b.Set("Fragment", u.Fragment)
	return b
}

// parsePath splits a Windows or Unix file path, a share or a file URL into
// Kusto's parts; RootPath is a drive letter only, as the reference's
// examples show.
func parsePath(s string) *Bag {
	b := NewBag()
	scheme, rest := "", s
	if i := strings.Index(s, "://"); i > 0 {
		scheme, rest = s[:i], s[i+3:]
	}
	sep := "/"
	if strings.Contains(rest, `\`) {
		sep = `\`
	}
	root := ""
	if len(rest) >= 2 && rest[1] == ':' {
		root = rest[:2]
	}
	dir, file := "", rest
	if i := strings.LastIndex(rest, sep); i >= 0 {
		dir, file = rest[:i], rest[i+1:]
	}
	stream := ""
	if i := strings.LastIndexByte(file, ':'); i > 0 {
		file, stream = file[:i], file[i+1:]
	}
	ext := ""
	if i := strings.LastIndexByte(file, '.'); i >= 0 {
		ext = file[i+1:]
	}
	dirName := dir
	if i := strings.LastIndex(dir, sep); i >= 0 {
		dirName = dir[i+1:]
	}
	b.Set("Scheme", scheme)
	b.Set("RootPath", root)
	b.Set("DirectoryPath", dir)
	b.Set("DirectoryName", dirName)
	b.Set("Filename", file)
	b.Set("Extension", ext)
	b.Set("AlternateDataStreamName", stream)
	return b
}

// jsonPath follows the JSONPath subset Kusto documents: $, .name,
// ['name'] and [index].
func jsonPath(doc any, path string) (any, bool) {
	p := strings.TrimSpace(path)
	if !strings.HasPrefix(p, "$") {
		return nil, false
	}
	p = p[1:]
	cur := doc
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			name := p[:end]
			p = p[end:]
			bag, ok := cur.(*Bag)
			if !ok {
				return nil, false
			}
			if cur, ok = bag.M[name]; !ok {
				return nil, false
			}
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, false
			}
			key := strings.TrimSpace(p[1:end])
			p = p[end+1:]
			if len(key) >= 2 && (key[0] == '\'' || key[0] == '"') {
				bag, ok := cur.(*Bag)
				if !ok {
					return nil, false
				}
				if cur, ok = bag.M[key[1:len(key)-1]]; !ok {
					return nil, false
				}
				continue
			}
			i, err := strconv.Atoi(key)
			arr, ok := cur.([]any)
			if err != nil || !ok {
				return nil, false
			}
			if i < 0 {
				i += len(arr)
			}
			if i < 0 || i >= len(arr) {
				return nil, false
			}
			cur = arr[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
