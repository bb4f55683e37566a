package graph

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// maxTop is Graph's largest page size for directory objects.
const maxTop = 999

// query holds a request's parsed OData system query options.
type query struct {
	filter  fnode
	fprops  []string // properties the filter names
	selects []string
	top     int
	count   bool
	offset  int
	orderBy string
	desc    bool
	raw     url.Values
}

// checkQuery parses the system query options Graph's directory APIs take
// and refuses those Steward does not implement, so nothing is silently
// ignored.
func (c *call) checkQuery() error {
	q := c.r.URL.Query()
	for k := range q {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		switch strings.ToLower(k) {
		case "$filter", "$select", "$top", "$count", "$skiptoken", "$orderby":
		case "$search", "$expand", "$skip", "$format", "$apply":
			return unsupportedQuery("The query option '%s' is not supported by Steward's Graph.", k)
		default:
			return badRequest("Unrecognized query option '%s'.", k)
		}
	}
	return nil
}

// parseQuery parses the options of a list or get request.
func (c *call) parseQuery() (*query, error) {
	v := c.r.URL.Query()
	q := &query{raw: v}
	get := func(name string) string {
		for k, vals := range v {
			if strings.EqualFold(k, name) && len(vals) > 0 {
				return vals[0]
			}
		}
		return ""
	}
	if f := get("$filter"); f != "" {
		node, props, err := parseFilter(f)
		if err != nil {
			return nil, badRequest("Invalid filter clause: %s", err)
		}
		q.filter, q.fprops = node, props
	}
	if s := get("$select"); s != "" {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				q.selects = append(q.selects, p)
			}
		}
	}
	if t := get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > maxTop {
			return nil, badRequest("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", t, maxTop)
		}
		q.top = n
	}
	switch strings.ToLower(get("$count")) {
	case "":
	case "true":
		if !strings.EqualFold(c.r.Header.Get("ConsistencyLevel"), "eventual") {
			return nil, unsupportedQuery("$count is only supported with the ConsistencyLevel:eventual header.")
		}
		q.count = true
	case "false":
	default:
		return nil, badRequest("Invalid $count value '%s': must be true or false.", get("$count"))
	}
	if s := get("$skiptoken"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "o:") || n < 0 {
			return nil, badRequest("The $skiptoken '%s' is not valid; use the @odata.nextLink of a previous page.", s)
		}
		q.offset = n
	}
	if o := get("$orderby"); o != "" {
		f := strings.Fields(o)
		if len(f) == 0 || len(f) > 2 || (len(f) == 2 && !slices.Contains([]string{"asc", "desc"}, strings.ToLower(f[1]))) {
			return nil, badRequest("Invalid $orderby '%s'.", o)
		}
		q.orderBy = f[0]
		q.desc = len(f) == 2 && strings.EqualFold(f[1], "desc")
	}
	return q, nil
}

// typeInfo describes an entity type for queries.
type typeInfo struct {
	name       string // "application"
	set        string // "applications"
	filterable []string
	orderable  []string
	// defaults, when set, are the properties returned without $select
	// (Graph returns a default set of a user's properties).
	defaults []string
}

// selection is the properties to return: $select, or the type's default
// set.
func (t typeInfo) selection(selects []string) []string {
	if len(selects) == 0 {
		return t.defaults
	}
	return selects
}

func (t typeInfo) odataType() string { return "#microsoft.graph." + t.name }

// checkSelect refuses $select properties the objects do not have.
func checkSelect(t typeInfo, sample map[string]any, selects []string) error {
	for _, s := range selects {
		if _, ok := sample[s]; !ok && !containsFold(t.filterable, s) {
			return badRequest("Could not find a property named '%s' on type 'microsoft.graph.%s'.", s, t.name)
		}
	}
	return nil
}

// project keeps the selected properties of an object.
func project(obj map[string]any, selects []string) map[string]any {
	if len(selects) == 0 {
		return obj
	}
	out := map[string]any{}
	for k, v := range obj {
		if strings.HasPrefix(k, "@odata.") {
			out[k] = v
		}
	}
	for _, s := range selects {
		for k, v := range obj {
			if strings.EqualFold(k, s) {
				out[k] = v
			}
		}
	}
	return out
}

// list answers a collection request: filter, order, count, page and
// select over items, which are the objects' full Graph representations.
func (c *call) list(t typeInfo, items []map[string]any, contextPath string) error {
	q, err := c.parseQuery()
	if err != nil {
		return err
	}
	for _, p := range q.fprops {
		if !containsFold(t.filterable, p) {
			return unsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", p, t.name)
		}
	}
	if q.orderBy != "" && !containsFold(t.orderable, q.orderBy) {
		return unsupportedQuery("Sorting by property '%s' of resource '%s' is not supported.", q.orderBy, t.name)
	}
	if len(items) > 0 {
		if err := checkSelect(t, items[0], q.selects); err != nil {
			return err
		}
	}
	var kept []map[string]any
	for _, it := range items {
		if q.filter == nil || q.filter.eval(it) {
			kept = append(kept, it)
		}
	}
	key := "id"
	if q.orderBy != "" {
		key = q.orderBy
	}
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := strings.ToLower(fmt.Sprint(lookup(kept[i], key))), strings.ToLower(fmt.Sprint(lookup(kept[j], key)))
		if q.desc {
			return a > b
		}
		return a < b
	})
	total := len(kept)
	size := c.h.opts.PageSize
	if q.top > 0 {
		size = q.top
	}
	start := min(q.offset, total)
	end := min(start+size, total)
	page := make([]map[string]any, 0, end-start)
	for _, it := range kept[start:end] {
		page = append(page, typed(project(it, t.selection(q.selects)), t.name == objectType.name))
	}
	body := map[string]any{"@odata.context": c.base + "/$metadata#" + contextPath, "value": page}
	if q.count {
		body["@odata.count"] = total
	}
	if end < total {
		next := url.Values{}
		for k, v := range q.raw {
			if !strings.EqualFold(k, "$skiptoken") {
				next[k] = v
			}
		}
		next.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte("o:"+strconv.Itoa(end))))
		body["@odata.nextLink"] = c.base + c.pathAfterVersion() + "?" + next.Encode()
	}
	c.writeJSON(http.StatusOK, body)
	return nil
}

// countOnly answers /{set}/$count as plain text.
func (c *call) countOnly(n int) error {
	if !strings.EqualFold(c.r.Header.Get("ConsistencyLevel"), "eventual") {
		return unsupportedQuery("$count is only supported with the ConsistencyLevel:eventual header.")
	}
	c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	c.w.Header().Set("request-id", c.reqID)
	c.w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(c.w, n)
	return nil
}

// one answers a single object with $select applied.
func (c *call) one(t typeInfo, obj map[string]any, status int) error {
	q, err := c.parseQuery()
	if err != nil {
		return err
	}
	if err := checkSelect(t, obj, q.selects); err != nil {
		return err
	}
	out := typed(project(obj, t.selection(q.selects)), t.name == objectType.name)
	out["@odata.context"] = c.base + "/$metadata#" + t.set + "/$entity"
	c.writeJSON(status, out)
	return nil
}

// typed keeps @odata.type only where Graph sends it: in collections of
// directory objects, whose members are of several types.
func typed(obj map[string]any, polymorphic bool) map[string]any {
	if !polymorphic {
		delete(obj, "@odata.type")
	}
	return obj
}

func (c *call) pathAfterVersion() string {
	p := c.r.URL.Path
	for _, v := range []string{Version, "beta"} {
		if i := strings.Index(p, "/"+v+"/"); i >= 0 {
			return p[i+len(v)+1:]
		}
	}
	return p
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// lookup reads a property path ("web/redirectUris") case-insensitively.
func lookup(obj map[string]any, path string) any {
	var cur any = obj
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = nil
		for k, v := range m {
			if strings.EqualFold(k, part) {
				cur = v
				break
			}
		}
	}
	return cur
}

// fnode is a parsed $filter expression.
type fnode interface{ eval(obj map[string]any) bool }

type (
	andNode struct{ a, b fnode }
	orNode  struct{ a, b fnode }
	notNode struct{ a fnode }
	cmpNode struct {
		prop, op string
		val      any
	}
	inNode struct {
		prop string
		vals []any
	}
	startsNode struct{ prop, prefix string }
	anyNode    struct {
		prop   string
		op     string
		val    any
		starts bool
	}
)

func (n andNode) eval(o map[string]any) bool { return n.a.eval(o) && n.b.eval(o) }
func (n orNode) eval(o map[string]any) bool  { return n.a.eval(o) || n.b.eval(o) }
func (n notNode) eval(o map[string]any) bool { return !n.a.eval(o) }

func (n cmpNode) eval(o map[string]any) bool {
	eq := equalValue(lookup(o, n.prop), n.val)
	if n.op == "ne" {
		return !eq
	}
	return eq
}

func (n inNode) eval(o map[string]any) bool {
	v := lookup(o, n.prop)
	return slices.ContainsFunc(n.vals, func(x any) bool { return equalValue(v, x) })
}

func (n startsNode) eval(o map[string]any) bool {
	s, ok := lookup(o, n.prop).(string)
	return ok && strings.HasPrefix(strings.ToLower(s), strings.ToLower(n.prefix))
}

func (n anyNode) eval(o map[string]any) bool {
	var items []any
	switch v := lookup(o, n.prop).(type) {
	case []any:
		items = v
	case []string:
		for _, s := range v {
			items = append(items, s)
		}
	}
	for _, it := range items {
		if n.starts {
			if s, ok := it.(string); ok && strings.HasPrefix(strings.ToLower(s), strings.ToLower(fmt.Sprint(n.val))) {
				return true
			}
			continue
		}
		if equalValue(it, n.val) {
			return true
		}
	}
	return false
}

// equalValue compares a property with a literal; strings compare
// case-insensitively, as the directory's string properties do.
func equalValue(v, lit any) bool {
	switch l := lit.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, l)
	case bool:
		b, ok := v.(bool)
		return ok && b == l
	case float64:
		switch n := v.(type) {
		case float64:
			return n == l
		case int:
			return float64(n) == l
		}
	}
	return false
}

// filter parsing: a small recursive-descent parser over tokens.

type ftok struct {
	kind byte // 'i' ident, 's' string, 'n' number, 'p' punctuation
	text string
}

func lexFilter(s string) ([]ftok, error) {
	var out []ftok
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			i++
		case ch == '(' || ch == ')' || ch == ',' || ch == ':':
			out = append(out, ftok{'p', string(ch)})
			i++
		case ch == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal at %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, ftok{'s', b.String()})
			i = j + 1
		case ch == '-' || (ch >= '0' && ch <= '9'):
			j := i + 1
			for j < len(s) && (s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			out = append(out, ftok{'n', s[i:j]})
			i = j
		case unicode.IsLetter(rune(ch)) || ch == '_' || ch == '$' || ch == '@':
			j := i + 1
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '/' || s[j] == '.' || s[j] == '@') {
				j++
			}
			out = append(out, ftok{'i', s[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at %d", ch, i)
		}
	}
	return out, nil
}

type fparser struct {
	toks  []ftok
	pos   int
	props []string
	depth int
}

// parseFilter parses a $filter expression: eq/ne comparisons, in lists,
// startswith, any() lambdas on collections, and/or/not and parentheses.
func parseFilter(s string) (fnode, []string, error) {
	if len(s) > 4096 {
		return nil, nil, fmt.Errorf("the filter is longer than 4096 characters")
	}
	toks, err := lexFilter(s)
	if err != nil {
		return nil, nil, err
	}
	p := &fparser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, nil, err
	}
	if p.pos != len(p.toks) {
		return nil, nil, fmt.Errorf("unexpected '%s'", p.toks[p.pos].text)
	}
	return n, p.props, nil
}

func (p *fparser) peek() (ftok, bool) {
	if p.pos >= len(p.toks) {
		return ftok{}, false
	}
	return p.toks[p.pos], true
}

func (p *fparser) next() (ftok, error) {
	t, ok := p.peek()
	if !ok {
		return t, fmt.Errorf("unexpected end of expression")
	}
	p.pos++
	return t, nil
}

func (p *fparser) keyword(k string) bool {
	t, ok := p.peek()
	if ok && t.kind == 'i' && strings.EqualFold(t.text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *fparser) punct(s string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != 'p' || t.text != s {
		return fmt.Errorf("expected '%s', found '%s'", s, t.text)
	}
	return nil
}

func (p *fparser) or() (fnode, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		a = orNode{a, b}
	}
	return a, nil
}

func (p *fparser) and() (fnode, error) {
	a, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		b, err := p.unary()
		if err != nil {
			return nil, err
		}
		a = andNode{a, b}
	}
	return a, nil
}

func (p *fparser) unary() (fnode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 32 {
		return nil, fmt.Errorf("the filter nests too deeply")
	}
	if p.keyword("not") {
		a, err := p.unary()
		return notNode{a}, err
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind == 'p' && t.text == "(" {
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		return n, p.punct(")")
	}
	if t.kind != 'i' {
		return nil, fmt.Errorf("expected a property or function, found '%s'", t.text)
	}
	if strings.EqualFold(t.text, "startswith") {
		if err := p.punct("("); err != nil {
			return nil, err
		}
		prop, err := p.prop()
		if err != nil {
			return nil, err
		}
		if err := p.punct(","); err != nil {
			return nil, err
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		s, ok := lit.(string)
		if !ok {
			return nil, fmt.Errorf("startswith takes a string")
		}
		return startsNode{prop, s}, p.punct(")")
	}
	if base, ok := cutSuffixFold(t.text, "/any"); ok {
		return p.lambda(base)
	}
	p.props = append(p.props, t.text)
	switch {
	case p.keyword("eq"):
		v, err := p.literal()
		return cmpNode{t.text, "eq", v}, err
	case p.keyword("ne"):
		v, err := p.literal()
		return cmpNode{t.text, "ne", v}, err
	case p.keyword("in"):
		if err := p.punct("("); err != nil {
			return nil, err
		}
		var vals []any
		for {
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
			if len(vals) > 15 {
				return nil, fmt.Errorf("an 'in' list holds at most 15 values")
			}
			sep, err := p.next()
			if err != nil {
				return nil, err
			}
			if sep.text == ")" {
				return inNode{t.text, vals}, nil
			}
			if sep.text != "," {
				return nil, fmt.Errorf("expected ',' or ')' in the 'in' list")
			}
		}
	}
	nt, _ := p.peek()
	return nil, fmt.Errorf("operator '%s' is not supported (eq, ne, in, startswith, any)", nt.text)
}

func (p *fparser) prop() (string, error) {
	t, err := p.next()
	if err != nil {
		return "", err
	}
	if t.kind != 'i' {
		return "", fmt.Errorf("expected a property, found '%s'", t.text)
	}
	p.props = append(p.props, t.text)
	return t.text, nil
}

// lambda parses "(x:x eq 'v')" or "(x:startswith(x,'v'))" after prop/any.
func (p *fparser) lambda(prop string) (fnode, error) {
	p.props = append(p.props, prop)
	if err := p.punct("("); err != nil {
		return nil, err
	}
	v, err := p.next()
	if err != nil || v.kind != 'i' {
		return nil, fmt.Errorf("expected a lambda variable")
	}
	if err := p.punct(":"); err != nil {
		return nil, err
	}
	if p.keyword("startswith") {
		if err := p.punct("("); err != nil {
			return nil, err
		}
		if t, err := p.next(); err != nil || t.text != v.text {
			return nil, fmt.Errorf("startswith in a lambda must test the lambda variable")
		}
		if err := p.punct(","); err != nil {
			return nil, err
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		if err := p.punct(")"); err != nil {
			return nil, err
		}
		return anyNode{prop: prop, val: lit, starts: true}, p.punct(")")
	}
	if t, err := p.next(); err != nil || t.text != v.text {
		return nil, fmt.Errorf("the lambda must compare its variable '%s'", v.text)
	}
	if !p.keyword("eq") {
		return nil, fmt.Errorf("a lambda supports eq and startswith only")
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	return anyNode{prop: prop, op: "eq", val: lit}, p.punct(")")
}

func (p *fparser) literal() (any, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case 's':
		return t.text, nil
	case 'n':
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number '%s'", t.text)
		}
		return f, nil
	case 'i':
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, fmt.Errorf("expected a literal value, found '%s'", t.text)
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}
