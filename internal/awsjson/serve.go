package awsjson

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Serve returns a handler for requests outside the JSON protocol that are
// served beside it, such as a GET of a file: they get what every API
// request gets, in the same order (a request id in x-amzn-RequestId, the
// body read under MaxBodyBytes, Verify before anything else), and then
// fn, with the [Principal] in the request's context. fn writes its own
// successful response. An error it returns before writing anything is
// written as an op's would be, in the {"__type","message"} envelope with
// the error's status (a generic 500 for an error that is not an
// [APIError]); once it has written, the response is the client's already
// and the error is only logged. A panic in fn is an internal error, as in
// an op.
func (h *Handler) Serve(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := &reqCtx{Context: r.Context()}
		rc.hdr[0] = newRequestID()
		w.Header()["X-Amzn-Requestid"] = rc.hdr[0:1:1]
		st := statePool.Get().(*reqState)
		defer st.release()
		label := clip(r.Method, 16) + " " + clip(r.URL.Path, 256)

		limit := h.MaxBodyBytes
		if limit <= 0 {
			limit = DefaultMaxBodyBytes
		}
		body, err := readBody(w, r, st, limit)
		if err != nil {
			h.fail(w, rc, st, label, err)
			return
		}
		if h.Verify != nil {
			p, err := h.Verify(r, body)
			if err != nil {
				h.fail(w, rc, st, label, err)
				return
			}
			rc.principal, rc.hasPrincipal = p, true
		}
		tw := &trackingWriter{ResponseWriter: w}
		err = callServe(fn, tw, r.WithContext(rc))
		switch {
		case err == nil:
		case !tw.wrote:
			h.fail(w, rc, st, label, err)
		default:
			h.logger().LogAttrs(rc, slog.LevelWarn, "awsjson: response cut short",
				slog.String("requestId", rc.hdr[0]), slog.String("target", label), slog.Any("err", err))
		}
	})
}

// callServe runs fn, turning a panic into an error as callOp does.
func callServe(fn func(http.ResponseWriter, *http.Request) error, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			err = fmt.Errorf("awsjson: handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(w, r)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

// trackingWriter records whether a response has begun, after which an
// error can no longer be sent as one.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(status int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *trackingWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
