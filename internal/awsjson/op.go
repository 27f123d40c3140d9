package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Op is one operation. It receives the raw request body, which the
// [Handler] has already authenticated and validated (see the scanner
// rules in scan.go), and returns the output to encode or an error.
//
// The body is only valid until the Op returns: the handler reuses the
// buffer for later requests, so an Op must copy anything it keeps. (Ops
// built with [Handle] never keep it; encoding/json copies.)
//
// A nil output means the operation has no output shape: the response is
// 200 with an empty body. An output that is a [RawJSON], or has a method
// RawJSON() []byte, is written verbatim. Anything else is encoded with
// encoding/json.
type Op func(ctx context.Context, body []byte) (any, error)

// Unmarshaler is implemented by an input type that decodes itself faster
// than encoding/json can, such as one whose requests are large. [Handle]
// calls UnmarshalAWSJSON on a new zero In instead of json.Unmarshal.
//
// The body has passed the handler's scanner (see scan.go): it is one
// well-formed JSON object, valid UTF-8, with no unpaired surrogate
// escapes, nested at most MaxDepth levels, and no object in it has two
// member names that are equal ignoring case. The method may rely on that,
// but must still never panic on other input, and must decode exactly as
// json.Unmarshal would: the same case-insensitive member matching,
// unknown members ignored, null leaving a member zero. A member of the
// wrong JSON type must be reported as a *json.UnmarshalTypeError whose
// Field is encoding/json's dotted path ("pipelineObjects.fields.key"), so
// that the client sees the same SerializationException. The body is valid
// only during the call: everything kept must be copied.
type Unmarshaler interface {
	UnmarshalAWSJSON(body []byte) error
}

// Handle adapts a typed operation to an [Op]. It decodes the body into a
// new In, with its [Unmarshaler] method if *In has one and with
// json.Unmarshal otherwise, calls fn, and returns its output.
//
// An empty or all-whitespace body decodes as {}, leaving In zero. Members
// In does not declare are ignored, as AWS ignores them. A member of the
// wrong JSON type is a 400 SerializationException naming the member, such
// as "Unexpected value type in payload at 'pipelineIds'". A nil *Out means
// "no output shape" (AWS sends an empty 200 body for DeletePipeline and
// SetStatus).
//
// Handle panics if fn is nil; that is a programming error in the ops table.
func Handle[In, Out any](fn func(context.Context, *In) (*Out, error)) Op {
	if fn == nil {
		panic("awsjson: Handle called with a nil function")
	}
	_, custom := any(new(In)).(Unmarshaler)
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if !isBlank(body) {
			var err error
			if custom {
				err = any(in).(Unmarshaler).UnmarshalAWSJSON(body)
			} else {
				err = json.Unmarshal(body, in)
			}
			if err != nil {
				return nil, decodeError(err)
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			// Untyped nil: a nil *Out in an interface would not compare
			// equal to nil and would be encoded as "null".
			return nil, nil
		}
		return out, nil
	}
}

// decodeError turns an encoding/json or [Unmarshaler] failure into the
// error the client sees. Type mismatches and syntax errors (the latter only when an Op is
// called without the handler's scanner in front) are the client's fault;
// an APIError from a member's UnmarshalJSON passes through; a misuse of
// Unmarshal itself is ours.
func decodeError(err error) error {
	var (
		typeErr    *json.UnmarshalTypeError
		syntaxErr  *json.SyntaxError
		invalidErr *json.InvalidUnmarshalError
		apiErr     APIError
	)
	switch {
	case errors.As(err, &apiErr):
		return err
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return serializationError(fmt.Sprintf("Unexpected value type in payload at '%s'", clip(typeErr.Field, 256)))
		}
		return serializationError(fmt.Sprintf("Unexpected value type in payload at offset %d", typeErr.Offset))
	case errors.As(err, &syntaxErr):
		return serializationError(fmt.Sprintf("invalid JSON at offset %d: %v", syntaxErr.Offset, syntaxErr))
	case errors.As(err, &invalidErr):
		return fmt.Errorf("awsjson: decode input: %w", err)
	default:
		// A member type's UnmarshalJSON rejected its value. Its text may
		// not be meant for clients, so send a fixed message and keep the
		// cause for the log.
		return fmt.Errorf("%w: %w", serializationError("Unable to parse request body"), err)
	}
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// RawJSON is pre-encoded JSON that an [Op] returns to have it written
// verbatim, such as a cached response. The handler does not validate it.
type RawJSON []byte

// RawJSON returns r itself; output types implement the same method to be
// written verbatim, or return nil to be encoded as any other output.
func (r RawJSON) RawJSON() []byte { return r }

// rawJSONer is how the handler recognises verbatim output.
type rawJSONer interface{ RawJSON() []byte }
