package storage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// maxBatchOps is the number of operations an entity group transaction may
// hold.
const maxBatchOps = 100

// batchOp is one operation of a change set, parsed.
type batchOp struct {
	op        entityOp
	acc       access
	contentID string
	content   bool // Prefer: return-content (inserts)
}

// batch serves POST /$batch: one change set of writes to one partition of
// one table, applied atomically.
func (h *Handler) batch(req *request) error {
	body, err := readBody(req.r)
	if err != nil {
		return err
	}
	ops, table, err := h.parseBatch(req, body)
	if err != nil {
		return err
	}
	for _, o := range ops {
		if err := h.authorize(req.r.Context(), req.account, req.caller, o.acc); err != nil {
			return err
		}
	}
	list := make([]entityOp, len(ops))
	for i, o := range ops {
		list[i] = o.op
	}
	out, err := h.svc.data.apply(req.r.Context(), req.account.Name, table, list)
	var oe *opError
	if e, ok := err.(*opError); ok {
		oe = e
	} else if se, ok := err.(*Error); ok {
		// The table itself is missing: the first operation fails.
		oe = &opError{Index: 0, Err: se}
	} else if err != nil {
		return err
	}
	return h.writeBatchResponse(req, ops, out, oe, table)
}

func (h *Handler) parseBatch(req *request, body []byte) ([]batchOp, string, error) {
	bad := func(msg string) ([]batchOp, string, error) {
		return nil, "", invalidInput("The batch request body is malformed: %s.", msg)
	}
	_, params, err := mime.ParseMediaType(req.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return bad("the Content-Type is not multipart/mixed with a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		return bad("it has no change set")
	}
	_, cparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
	if err != nil || cparams["boundary"] == "" {
		return bad("the change set is not multipart/mixed with a boundary")
	}
	cr := multipart.NewReader(part, cparams["boundary"])
	var ops []batchOp
	var table, pk string
	seen := map[string]bool{}
	for {
		p, err := cr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("a change set part cannot be read")
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			return bad("a change set part cannot be read")
		}
		if len(ops) == maxBatchOps {
			return nil, "", invalidInput("The batch request operation exceeds the maximum %d changes per change set.", maxBatchOps)
		}
		o, t, err := h.parseBatchPart(req, raw)
		if err != nil {
			return nil, "", err
		}
		if table == "" {
			table, pk = t, o.op.Entity.PartitionKey
		} else if !strings.EqualFold(table, t) {
			return nil, "", invalidInput("All operations of a batch must be on the same table.")
		} else if pk != o.op.Entity.PartitionKey {
			return nil, "", errorf(http.StatusBadRequest, "CommandsInBatchActOnDifferentPartitions",
				"All commands in a batch must operate on same entity group.")
		}
		if seen[o.op.Entity.RowKey] {
			return nil, "", errorf(http.StatusBadRequest, "InvalidDuplicateRow", "The batch request contains multiple changes with same row key. An entity can appear only once in a batch request.")
		}
		seen[o.op.Entity.RowKey] = true
		ops = append(ops, o)
	}
	if len(ops) == 0 {
		return bad("the change set is empty")
	}
	if _, err := mr.NextPart(); err != io.EOF {
		return nil, "", invalidInput("A batch request may hold one change set.")
	}
	return ops, table, nil
}

// parseBatchPart reads one application/http part: a request line with an
// absolute URL, headers, a blank line and the body.
func (h *Handler) parseBatchPart(req *request, raw []byte) (batchOp, string, error) {
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	hr, err := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n\r\n"))))
	if err != nil {
		return batchOp{}, "", invalidInput("An operation of the batch is not an HTTP request.")
	}
	u, err := url.Parse(hr.RequestURI)
	if err != nil {
		return batchOp{}, "", invalidInput("An operation of the batch has an invalid URL.")
	}
	p := u.Path
	// The path below the account: strip the path of the account's URL.
	bu, _ := url.Parse(req.base)
	if bu != nil && bu.Path != "" {
		if !strings.HasPrefix(strings.ToLower(p), strings.ToLower(bu.Path)+"/") {
			return batchOp{}, "", invalidInput("An operation of the batch is for another account.")
		}
		p = p[len(bu.Path):]
	}
	table, keys, hasKeys, err := parseEntityPath(p)
	if err != nil {
		return batchOp{}, "", err
	}
	method := hr.Method
	if m := hr.Header.Get("X-HTTP-Method"); method == http.MethodPost && m != "" {
		method = strings.ToUpper(m)
	}
	if method == http.MethodGet {
		return batchOp{}, "", invalidInput("Steward's batches hold writes only; read entities with a query.")
	}
	body = bytes.TrimRight(body, "\r\n")
	op, acc, err := buildOp(method, table, keys, hasKeys, hr.Header.Get("If-Match"), body)
	if err != nil {
		return batchOp{}, "", err
	}
	return batchOp{op: op, acc: acc, contentID: hr.Header.Get("Content-ID"), content: wantsContent(hr)}, table, nil
}

// writeBatchResponse answers 202 with a multipart body: a response per
// operation, or only the failing operation's error (its index prefixed to
// the message, as the service does).
func (h *Handler) writeBatchResponse(req *request, ops []batchOp, out []Entity, oe *opError, table string) error {
	bb := "batchresponse_" + uuid.NewString()
	cb := "changesetresponse_" + uuid.NewString()
	var b bytes.Buffer
	fmt.Fprintf(&b, "--%s\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n", bb, cb)
	part := func(status int, headers []string, body []byte) {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n", cb)
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		for _, hd := range headers {
			b.WriteString(hd + "\r\n")
		}
		if body != nil {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
		}
		b.WriteString("\r\n")
		b.Write(body)
		b.WriteString("\r\n")
	}
	if oe != nil {
		se := oe.Err
		msg := fmt.Sprintf("%d:%s\nRequestId:%s\nTime:%s", oe.Index, se.Message, req.id, formatDateTime(h.now()))
		eb, _ := json.Marshal(map[string]any{"odata.error": map[string]any{"code": se.Code, "message": map[string]string{"lang": "en-US", "value": msg}}})
		hdrs := []string{"X-Content-Type-Options: nosniff", "DataServiceVersion: 3.0;",
			"Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8"}
		if oe.Index < len(ops) && ops[oe.Index].contentID != "" {
			hdrs = append(hdrs, "Content-ID: "+ops[oe.Index].contentID)
		}
		part(se.Status, hdrs, eb)
	} else {
		for i, o := range ops {
			hdrs := []string{"X-Content-Type-Options: nosniff", "Cache-Control: no-cache", "DataServiceVersion: 1.0;"}
			if o.contentID != "" {
				hdrs = append(hdrs, "Content-ID: "+o.contentID)
			}
			e := out[i]
			if o.op.Kind != opDelete {
				hdrs = append(hdrs, "ETag: "+e.ETag())
			}
			if o.op.Kind == opInsert && o.content {
				w := e.wire(minimalMetadata, nil, req.base, req.account.Name, table)
				w["odata.metadata"] = req.base + "/$metadata#" + table + "/@Element"
				body, _ := json.Marshal(w)
				hdrs = append(hdrs, "Preference-Applied: return-content",
					"Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
				part(http.StatusCreated, hdrs, body)
				continue
			}
			if o.op.Kind == opInsert {
				hdrs = append(hdrs, "Preference-Applied: return-no-content")
			}
			part(http.StatusNoContent, hdrs, nil)
		}
	}
	fmt.Fprintf(&b, "--%s--\r\n--%s--\r\n", cb, bb)
	req.w.Header().Set("Content-Type", "multipart/mixed; boundary="+bb)
	req.w.WriteHeader(http.StatusAccepted)
	_, _ = req.w.Write(b.Bytes())
	return nil
}
