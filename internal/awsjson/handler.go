package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of [Handler] fields.
const (
	DefaultMaxBodyBytes = 24 << 20
	DefaultMaxDepth     = 64
)

// contentType is what every response carries. Responses always use 1.1,
// the version the Data Pipeline model declares.
const contentType = "application/x-amz-json-1.1"

// Handler serves one AWS JSON 1.1 service. The zero value of each optional
// field selects its default; a Handler must not be modified while serving.
//
// The protocol errors it writes itself are:
//
//	404 UnknownOperationException       method other than POST, or path other than /
//	413 RequestEntityTooLargeException  body over MaxBodyBytes (the connection is then closed)
//	400 UnknownOperationException       X-Amz-Target missing, without a dot, with an unknown
//	                                    prefix or naming no operation in Ops
//	400 SerializationException          body unreadable, rejected by the scanner (see scan.go),
//	                                    or a member of the wrong JSON type
//	500 InternalServiceError            any error that is not an [APIError]; the message is
//	                                    fixed and the detail is only logged
//
// Verify's errors come first, before any of the 400s, so an unauthenticated
// caller learns nothing about the operation table or the body rules.
//
// Requests are accepted whatever their Content-Type:
// application/x-amz-json-1.1 is what the SDKs send, but hand-written
// clients often send application/json or nothing, the body is validated as
// JSON regardless, and a signed Content-Type is already covered by
// Verify. Rejecting them would break callers and protect nothing.
type Handler struct {
	// Target is the X-Amz-Target prefix before the last dot, such as
	// "DataPipeline".
	Target string
	// AltTargets are further accepted prefixes, such as the older
	// documented "DataPipeline_20121129".
	AltTargets []string
	// Ops maps operation names, such as "CreatePipeline", to operations.
	Ops map[string]Op
	// Verify authenticates a request before anything in it is decoded.
	// It receives the request and its complete body (r.Body is already
	// consumed; body is valid only during the call). Its error is written
	// like an Op's: an [APIError] with its own code and status, anything
	// else as a 500. Nil means no authentication, and ops then see no
	// [Principal].
	Verify func(r *http.Request, body []byte) (Principal, error)
	// MaxBodyBytes limits the request body; larger requests get 413.
	// Zero or negative means [DefaultMaxBodyBytes].
	MaxBodyBytes int64
	// MaxDepth limits JSON nesting (the top-level object is depth 1).
	// Zero or negative means [DefaultMaxDepth].
	MaxDepth int
	// Logger receives failures: client errors (4xx) at Debug, everything
	// else at Error, each with the request id. Nil means slog.Default().
	Logger *slog.Logger
	// Observe, if not nil, is told the outcome of every request ServeHTTP
	// answers, so the server can keep metrics per operation without
	// wrapping the ResponseWriter or parsing X-Amz-Target a second time.
	// It is called once per request, after the response is written, with
	// the operation X-Amz-Target names if it is one in Ops (whether or
	// not the request got as far as running it, so an operation's auth
	// failures count against it) and "" otherwise, which keeps the label
	// set bounded by Ops whatever clients send; the status written; the
	// __type of an error response ("" on success); and the time since
	// ServeHTTP began. It runs on the request's goroutine, so it should
	// be quick. Requests answered through [Handler.Serve] are not
	// operations and are not observed.
	Observe func(op string, status int, errCode string, d time.Duration)
}

// reqState is the reusable per-request memory: the body buffer, the
// scanner's stacks and the output encoder. Pooling it keeps a small
// request to a handful of allocations.
type reqState struct {
	body []byte
	sc   scanner
	out  bytes.Buffer
	enc  *json.Encoder
}

// statePool holds idle reqStates. A package-level sync.Pool is the
// standard-library idiom (encoding/json does the same); it holds no
// state that outlives a request.
var statePool = sync.Pool{New: func() any {
	st := new(reqState)
	st.enc = json.NewEncoder(&st.out)
	// AWS does not escape <, > and & in JSON; neither form is wrong, but
	// matching AWS keeps responses byte-comparable.
	st.enc.SetEscapeHTML(false)
	return st
}}

// maxPooled is the largest buffer returned to the pool. An occasional big
// PutPipelineDefinition should not pin megabytes in every pooled state.
const maxPooled = 1 << 20

func (st *reqState) release() {
	if cap(st.body) > maxPooled {
		st.body = nil
	}
	st.body = st.body[:0]
	st.sc.data = nil // may be a body too big to pool
	if cap(st.sc.keys) > maxPooled/32 || cap(st.sc.arena) > maxPooled || cap(st.sc.fold) > maxPooled {
		st.sc = scanner{}
	}
	if st.out.Cap() > maxPooled {
		st.out = bytes.Buffer{}
	}
	st.out.Reset()
	statePool.Put(st)
}

// ServeHTTP serves one request; see the package documentation for the
// order of steps. Every response, success or error, carries
// x-amzn-RequestId.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var start time.Time
	if h.Observe != nil {
		start = time.Now()
	}
	rc := &reqCtx{Context: r.Context()}
	rc.hdr[0] = newRequestID()
	// AWS spells it x-amzn-RequestId; header names are case-insensitive
	// and every SDK compares them so, and the canonical key keeps
	// w.Header().Get working for middleware.
	w.Header()["X-Amzn-Requestid"] = rc.hdr[0:1:1]

	target := h.serve(w, r, rc)
	if h.Observe != nil {
		op, _ := h.resolve(target)
		h.Observe(op, rc.status, rc.hdr[2], time.Since(start))
	}
}

// serve does the work of ServeHTTP and returns the X-Amz-Target it read,
// "" if it answered before reading one.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rc *reqCtx) (target string) {
	st := statePool.Get().(*reqState)
	defer st.release()

	// Callers mount the handler as "POST /{$}", but it must be safe on
	// its own. AWS has no operation at any other method or path, so this
	// is the same 404 UnknownOperationException as an unknown target.
	if r.Method != http.MethodPost || (r.URL.Path != "/" && r.URL.Path != "") {
		h.fail(w, rc, st, "", &Error{
			Code:    codeUnknownOperation,
			Message: fmt.Sprintf("No operation at %s %s: AWS JSON requests are POST /", clip(r.Method, 16), clip(r.URL.Path, 128)),
			Status:  http.StatusNotFound,
		})
		return ""
	}

	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	// The target is read now only to label log lines; it is not trusted
	// until Verify has passed.
	target = r.Header.Get("X-Amz-Target")
	body, err := readBody(w, r, st, limit)
	if err != nil {
		h.fail(w, rc, st, target, err)
		return target
	}

	if h.Verify != nil {
		p, err := h.Verify(r, body)
		if err != nil {
			h.fail(w, rc, st, target, err)
			return
		}
		rc.principal, rc.hasPrincipal = p, true
	}

	op, err := h.lookup(target)
	if err != nil {
		h.fail(w, rc, st, target, err)
		return target
	}

	depth := h.MaxDepth
	if depth <= 0 {
		depth = DefaultMaxDepth
	}
	if err := st.sc.scan(body, depth); err != nil {
		h.fail(w, rc, st, target, serializationError(err.Error()))
		return target
	}

	out, err := callOp(rc, op, body)
	if err != nil {
		h.fail(w, rc, st, target, err)
		return target
	}
	if err := h.writeOutput(w, rc, st, out); err != nil {
		h.fail(w, rc, st, target, err)
	}
	return target
}

// readBody reads r.Body into st.body. It implements http.MaxBytesReader's
// semantics without its allocation: a body over limit is an error, and the
// 413 response closes the connection so the server does not go on
// reading the rest of it.
func readBody(w http.ResponseWriter, r *http.Request, st *reqState, limit int64) ([]byte, error) {
	tooLarge := func() error {
		w.Header().Set("Connection", "close")
		return &Error{
			Code:    codeTooLarge,
			Message: fmt.Sprintf("Request body exceeds %d bytes", limit),
			Status:  http.StatusRequestEntityTooLarge,
		}
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	if r.Body == nil {
		return nil, nil
	}
	buf := st.body[:0]
	// Size the buffer from Content-Length, but only up to what a small
	// request needs: a client announcing 24 MiB and then trickling bytes
	// must not make the server commit 24 MiB up front.
	want := int64(512)
	if r.ContentLength > 0 {
		want = min(r.ContentLength+1, 64<<10)
	}
	if int64(cap(buf)) < want {
		buf = slices.Grow(buf, int(want))
	}
	for {
		if len(buf) == cap(buf) {
			// Grow geometrically, but never past limit+1: reading one
			// byte beyond the limit is how an oversized body is noticed.
			grow := min(int64(cap(buf)), limit+1-int64(len(buf)))
			buf = slices.Grow(buf, int(max(grow, 1)))
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		st.body = buf
		if int64(len(buf)) > limit {
			return nil, tooLarge()
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				// An outer http.MaxBytesReader with a smaller limit.
				return nil, tooLarge()
			}
			return nil, fmt.Errorf("%w: %w", serializationError("Unable to read request body"), err)
		}
	}
}

// lookup resolves an X-Amz-Target value to an operation.
func (h *Handler) lookup(target string) (Op, error) {
	if target == "" {
		return nil, unknownOperation("Missing X-Amz-Target header")
	}
	_, op := h.resolve(target)
	if op == nil {
		return nil, unknownOperation("Unrecognized operation: " + clip(target, 256))
	}
	return op, nil
}

// resolve returns the name and the operation that target names, or ""
// and nil if it names none in Ops.
func (h *Handler) resolve(target string) (string, Op) {
	dot := strings.LastIndexByte(target, '.')
	if dot < 0 {
		return "", nil
	}
	prefix, name := target[:dot], target[dot+1:]
	if prefix == "" || (prefix != h.Target && !slices.Contains(h.AltTargets, prefix)) {
		return "", nil
	}
	op := h.Ops[name]
	if op == nil {
		return "", nil
	}
	return name, op
}

// callOp runs op. A panicking op is a bug, not a reason to drop the
// connection: it becomes an internal error, logged with its stack, and
// the client gets a proper 500 envelope. http.ErrAbortHandler keeps its
// meaning.
func callOp(ctx context.Context, op Op, body []byte) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			out, err = nil, fmt.Errorf("awsjson: operation panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return op(ctx, body)
}

// writeOutput writes a successful response. It writes nothing and returns
// an error if out cannot be encoded.
func (h *Handler) writeOutput(w http.ResponseWriter, rc *reqCtx, st *reqState, out any) error {
	var body []byte
	if rv := reflect.ValueOf(out); rv.Kind() == reflect.Pointer && rv.IsNil() {
		out = nil // a typed nil from a hand-written Op: no output shape
	}
	if v, ok := out.(rawJSONer); ok {
		body = v.RawJSON()
	}
	if body == nil && out != nil {
		if err := st.enc.Encode(out); err != nil {
			return fmt.Errorf("awsjson: encode output: %w", err)
		}
		body = bytes.TrimSuffix(st.out.Bytes(), []byte{'\n'})
	}
	writeBody(w, rc, http.StatusOK, body)
	return nil
}

// writeBody writes a complete JSON response with an explicit length, so
// the server never falls back to chunked encoding.
func writeBody(w http.ResponseWriter, rc *reqCtx, status int, body []byte) {
	rc.status = status
	hdr := w.Header()
	rc.hdr[1] = contentType
	hdr["Content-Type"] = rc.hdr[1:2:2]
	rc.hdr[3] = strconv.Itoa(len(body))
	hdr["Content-Length"] = rc.hdr[3:4:4]
	w.WriteHeader(status)
	w.Write(body) // the client is gone if this fails; nothing to do
}

// errorBody is the AWS JSON error envelope. botocore and aws-sdk-go-v2
// read the code from __type and the text from message.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// fail writes err as an error response and logs it. An [APIError] keeps
// its code, message and status; anything else is a 500 with a fixed
// message, the detail going only to the log.
func (h *Handler) fail(w http.ResponseWriter, rc *reqCtx, st *reqState, target string, err error) {
	status, code, msg := http.StatusInternalServerError, codeInternal, msgInternal
	level := slog.LevelError
	logMsg := "awsjson: internal error"
	var apiErr APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		code, msg, status = apiErr.ErrorCode(), apiErr.ErrorMessage(), apiErr.HTTPStatus()
		switch {
		case status < 400 || status > 599:
			logMsg = "awsjson: APIError with a status outside 400-599; sending 500"
			status = http.StatusInternalServerError
		case status < 500:
			// The client's fault, and routine: not worth an operator's
			// attention.
			level, logMsg = slog.LevelDebug, "awsjson: client error"
		default:
			logMsg = "awsjson: server error"
		}
	case errors.Is(err, context.Canceled) && rc.Context.Err() != nil:
		// The client went away; the response below is never read.
		level, logMsg = slog.LevelDebug, "awsjson: request canceled by client"
	}

	logger := h.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if logger.Enabled(rc, level) {
		logger.LogAttrs(rc, level, logMsg,
			slog.String("requestId", rc.hdr[0]),
			slog.String("target", clip(target, 256)),
			slog.Int("status", status),
			slog.String("code", code),
			slog.Any("err", err),
		)
	}

	// The Go SDK takes the code from this header when present; botocore
	// reads __type. AWS sends both, and so do we.
	rc.hdr[2] = code
	w.Header()["X-Amzn-Errortype"] = rc.hdr[2:3:3]
	st.out.Reset()
	if err := st.enc.Encode(errorBody{Type: code, Message: msg}); err != nil {
		// Two strings always encode; keep the envelope valid regardless.
		st.out.Reset()
		st.out.WriteString(`{"__type":"` + codeInternal + `","message":"` + msgInternal + `"}` + "\n")
	}
	writeBody(w, rc, status, bytes.TrimSuffix(st.out.Bytes(), []byte{'\n'}))
}
