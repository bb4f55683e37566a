package storage

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Property is one named, typed value of an entity.
type Property struct {
	Name  string
	Value Value
}

// Entity is a row of a table: its keys, the service's timestamp (which is
// also its ETag) and its properties, sorted by name.
type Entity struct {
	PartitionKey string
	RowKey       string
	Timestamp    time.Time
	Props        []Property
}

// Prop returns the property named name.
func (e *Entity) Prop(name string) (Value, bool) {
	switch name {
	case "PartitionKey":
		return Value{Type: EdmString, S: e.PartitionKey}, true
	case "RowKey":
		return Value{Type: EdmString, S: e.RowKey}, true
	case "Timestamp":
		if e.Timestamp.IsZero() {
			return Value{}, false
		}
		return Value{Type: EdmDateTime, T: e.Timestamp}, true
	}
	i := sort.Search(len(e.Props), func(i int) bool { return e.Props[i].Name >= name })
	if i < len(e.Props) && e.Props[i].Name == name {
		return e.Props[i].Value, true
	}
	return Value{}, false
}

// ETag is the entity's ETag, derived from its timestamp as Azure's is.
func (e *Entity) ETag() string {
	return `W/"datetime'` + url.QueryEscape(formatDateTime(e.Timestamp)) + `'"`
}

// parseEntityBody reads an entity from a request body. Keys may come from
// the body or (for point operations) from the URL, which wins when both
// are given. odata.* members, Timestamp and null values are ignored, as
// the service ignores them.
func parseEntityBody(body []byte) (Entity, map[string]string, error) {
	var e Entity
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return e, nil, invalidInput("The request body is not a JSON object of entity properties.")
	}
	keys := map[string]string{}
	for name, v := range raw {
		if strings.Contains(name, "@") || strings.HasPrefix(name, "odata.") {
			continue
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		ann := ""
		if a, ok := raw[name+"@odata.type"]; ok {
			if err := json.Unmarshal(a, &ann); err != nil {
				return e, nil, invalidInput("The type annotation of property '%s' is not a string.", clip(name))
			}
		}
		switch name {
		case "PartitionKey", "RowKey":
			val, err := decodeValue(v, ann)
			if err != nil || val.Type != EdmString {
				return e, nil, errorf(400, "PropertiesNeedValue", "The values are not specified for all properties in the entity.")
			}
			keys[name] = val.S
			continue
		case "Timestamp":
			continue
		}
		if err := checkPropertyName(name); err != nil {
			return e, nil, err
		}
		val, err := decodeValue(v, ann)
		if err != nil {
			return e, nil, invalidInput("The value of property '%s' is invalid: %s.", clip(name), err.Error())
		}
		if (val.Type == EdmString && 2*utf16Len(val.S) > maxValueBytes) || (val.Type == EdmBinary && len(val.Bin) > maxValueBytes) {
			return e, nil, errorf(400, "PropertyValueTooLarge", "The property value exceeds the maximum allowed size (64KB). If the property value is a string, it is UTF-16 encoded and the maximum number of characters should be 32K or less.")
		}
		e.Props = append(e.Props, Property{Name: name, Value: val})
	}
	sort.Slice(e.Props, func(i, j int) bool { return e.Props[i].Name < e.Props[j].Name })
	return e, keys, nil
}

func checkPropertyName(name string) error {
	if len(name) > maxPropertyName {
		return errorf(400, "PropertyNameTooLong", "The property name exceeds the maximum allowed length (255).")
	}
	if name == "" || !validIdentStart(rune(name[0])) || strings.ContainsAny(name, " ./\\#?\t\r\n'\"") {
		return errorf(400, "PropertyNameInvalid", "The property name is invalid.")
	}
	return nil
}

func validIdentStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80
}

// checkKey enforces the characters and length the service allows in a
// PartitionKey or RowKey.
func checkKey(k string) error {
	if len(k) > maxKeyBytes {
		return errorf(400, "KeyValueTooLarge", "The property value is larger than the maximum size permitted for a key (1 KiB).")
	}
	for _, r := range k {
		if r == '/' || r == '\\' || r == '#' || r == '?' || r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return errOutOfRange
		}
	}
	return nil
}

// validate checks the entity against the service's limits.
func (e *Entity) validate() error {
	if err := checkKey(e.PartitionKey); err != nil {
		return err
	}
	if err := checkKey(e.RowKey); err != nil {
		return err
	}
	if len(e.Props) > maxProperties {
		return errTooManyProps
	}
	if e.size() > maxEntityBytes {
		return errEntityTooLarge
	}
	return nil
}

// size is the entity's size as the service computes it.
func (e *Entity) size() int {
	n := 4 + 2*utf16Len(e.PartitionKey) + 2*utf16Len(e.RowKey)
	for _, p := range e.Props {
		n += 8 + 2*utf16Len(p.Name) + p.Value.size()
	}
	return n
}

// merge sets the properties of other on e, keeping e's others.
func (e *Entity) merge(other []Property) {
	m := make(map[string]Value, len(e.Props)+len(other))
	for _, p := range e.Props {
		m[p.Name] = p.Value
	}
	for _, p := range other {
		m[p.Name] = p.Value
	}
	e.Props = e.Props[:0]
	for n, v := range m {
		e.Props = append(e.Props, Property{Name: n, Value: v})
	}
	sort.Slice(e.Props, func(i, j int) bool { return e.Props[i].Name < e.Props[j].Name })
}

// marshalProps is the stored form of the properties: JSON with a type
// annotation on every value that is not a string.
func marshalProps(props []Property) []byte {
	m := make(map[string]any, 2*len(props))
	for _, p := range props {
		m[p.Name] = p.Value.jsonValue()
		if p.Value.Type != EdmString {
			m[p.Name+"@odata.type"] = string(p.Value.Type)
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// unmarshalProps reads what marshalProps wrote.
func unmarshalProps(b []byte) ([]Property, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	return decodeRawProps(raw)
}

// storedRow is a row read by a query before the filter has kept it: the
// filter decodes only the properties it names.
type storedRow struct {
	pk, rk string
	ts     time.Time
	raw    map[string]json.RawMessage
}

// Prop implements propSource.
func (r *storedRow) Prop(name string) (Value, bool) {
	switch name {
	case "PartitionKey":
		return Value{Type: EdmString, S: r.pk}, true
	case "RowKey":
		return Value{Type: EdmString, S: r.rk}, true
	case "Timestamp":
		return Value{Type: EdmDateTime, T: r.ts}, true
	}
	v, ok := r.raw[name]
	if !ok || strings.Contains(name, "@") {
		return Value{}, false
	}
	ann := ""
	if a, ok := r.raw[name+"@odata.type"]; ok {
		_ = json.Unmarshal(a, &ann)
	}
	val, err := decodeValue(v, ann)
	return val, err == nil
}

// entity decodes the whole row.
func (r *storedRow) entity() (Entity, error) {
	p, err := decodeRawProps(r.raw)
	return Entity{PartitionKey: r.pk, RowKey: r.rk, Timestamp: r.ts, Props: p}, err
}

func decodeRawProps(raw map[string]json.RawMessage) ([]Property, error) {
	props := make([]Property, 0, len(raw))
	for name, v := range raw {
		if strings.Contains(name, "@") {
			continue
		}
		ann := ""
		if a, ok := raw[name+"@odata.type"]; ok {
			_ = json.Unmarshal(a, &ann)
		}
		val, err := decodeValue(v, ann)
		if err != nil {
			return nil, err
		}
		props = append(props, Property{Name: name, Value: val})
	}
	sort.Slice(props, func(i, j int) bool { return props[i].Name < props[j].Name })
	return props, nil
}

// metadata is the odata= level of a response.
type metadata int

const (
	noMetadata metadata = iota
	minimalMetadata
	fullMetadata
)

// parseAccept picks the metadata level from the Accept header or $format;
// minimal metadata is the default.
func parseAccept(accept, format string) metadata {
	s := strings.ToLower(accept + ";" + format)
	switch {
	case strings.Contains(s, "odata=nometadata"):
		return noMetadata
	case strings.Contains(s, "odata=fullmetadata"):
		return fullMetadata
	}
	return minimalMetadata
}

func (m metadata) contentType() string {
	switch m {
	case noMetadata:
		return "application/json;odata=nometadata;streaming=true;charset=utf-8"
	case fullMetadata:
		return "application/json;odata=fullmetadata;streaming=true;charset=utf-8"
	}
	return "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
}

// wire renders the entity as the service returns it, keeping only the
// selected properties when sel is not nil. base is the table service's
// URL, used by full metadata.
func (e *Entity) wire(md metadata, sel map[string]bool, base, account, table string) map[string]any {
	out := make(map[string]any, 4+2*len(e.Props))
	keep := func(n string) bool { return sel == nil || sel[n] }
	if md != noMetadata {
		out["odata.etag"] = e.ETag()
	}
	if md == fullMetadata {
		id := base + "/" + table + "(PartitionKey='" + odataKey(e.PartitionKey) + "',RowKey='" + odataKey(e.RowKey) + "')"
		out["odata.type"] = account + "." + table
		out["odata.id"] = id
		out["odata.editLink"] = id[len(base)+1:]
	}
	if keep("PartitionKey") {
		out["PartitionKey"] = e.PartitionKey
	}
	if keep("RowKey") {
		out["RowKey"] = e.RowKey
	}
	if keep("Timestamp") {
		out["Timestamp"] = formatDateTime(e.Timestamp)
		if md != noMetadata {
			out["Timestamp@odata.type"] = string(EdmDateTime)
		}
	}
	for _, p := range e.Props {
		if !keep(p.Name) {
			continue
		}
		out[p.Name] = p.Value.jsonValue()
		if md == fullMetadata && p.Value.Type != EdmString || md == minimalMetadata && p.Value.annotated() {
			out[p.Name+"@odata.type"] = string(p.Value.Type)
		}
	}
	if sel != nil {
		// A selected property the entity lacks is returned as null.
		for n := range sel {
			if _, ok := out[n]; !ok {
				out[n] = nil
			}
		}
	}
	return out
}

// odataKey escapes a key for an OData key predicate.
func odataKey(k string) string {
	return url.PathEscape(strings.ReplaceAll(k, "'", "''"))
}

// clip shortens client input echoed in messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
