package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// redact returns err with every secret replaced by ****, as a
// [*TaskError] when it is one, so that what the runner reports never
// shows a secret field's value, whatever an executor or a command put in
// its message.
func redact(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	var te *TaskError
	if errors.As(err, &te) {
		cp := *te
		cp.Message, cp.StackTrace = redactString(te.Message, secrets), redactString(te.StackTrace, secrets)
		return &cp
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if msg := err.Error(); redactString(msg, secrets) != msg {
		return &TaskError{ID: "TaskRunnerError", Message: redactString(msg, secrets)}
	}
	return err
}

// redactString replaces every secret of 4 bytes or more in s (shorter
// ones would blot out ordinary words without protecting anything) with
// ****, longest first, so a secret that holds another goes whole.
func redactString(s string, secrets []string) string {
	live := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if len(v) >= 4 && strings.Contains(s, v) {
			live = append(live, v)
		}
	}
	slices.SortFunc(live, func(a, b string) int { return len(b) - len(a) })
	for _, v := range live {
		s = strings.ReplaceAll(s, v, "****")
	}
	return s
}

// redactHandler replaces secrets in the message and attributes of every
// record before h formats it: a command line, a path or an error may
// hold a secret field's value, and neither the runner's log nor an
// attempt's event log may show one.
type redactHandler struct {
	h       slog.Handler
	secrets []string
}

func (r redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, redactString(rec.Message, r.secrets), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.attr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = r.attr(a)
	}
	return redactHandler{h: r.h.WithAttrs(red), secrets: r.secrets}
}

func (r redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h: r.h.WithGroup(name), secrets: r.secrets}
}

func (r redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redactString(v.String(), r.secrets))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = r.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		s := fmt.Sprint(v.Any())
		if red := redactString(s, r.secrets); red != s {
			return slog.String(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
