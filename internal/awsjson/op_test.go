package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// strictMember rejects one value, the way a member type with its own
// UnmarshalJSON might.
type strictMember string

var errStrict = errors.New("strictMember: internal parser detail")

func (m *strictMember) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"api"`:
		return &Error{Code: "InvalidRequestException", Message: "bad member", Status: 400}
	case `"plain"`:
		return errStrict
	}
	return json.Unmarshal(b, (*string)(m))
}

func TestHandleDecodeErrors(t *testing.T) {
	t.Parallel()
	type input struct {
		M     strictMember `json:"m"`
		Count int          `json:"count"`
	}
	op := Handle(func(_ context.Context, in *input) (*input, error) { return in, nil })
	tests := []struct {
		name      string
		body      string
		want      *Error
		wantCause error
	}{
		{name: "syntax error without the scanner", body: `{"m":`, want: serializationError("invalid JSON at offset 5: unexpected end of JSON input")},
		{name: "type error", body: `{"count":"1"}`, want: serializationError("Unexpected value type in payload at 'count'")},
		{name: "APIError from a member passes through", body: `{"m":"api"}`, want: &Error{Code: "InvalidRequestException", Message: "bad member", Status: 400}},
		{name: "other member error is hidden", body: `{"m":"plain"}`, want: serializationError("Unable to parse request body"), wantCause: errStrict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := op(context.Background(), []byte(tc.body))
			if out != nil {
				t.Errorf("output = %v, want nil", out)
			}
			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("error = %v, want an *Error", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if tc.wantCause != nil && !errors.Is(err, tc.wantCause) {
				t.Errorf("error %v does not wrap %v for the log", err, tc.wantCause)
			}
		})
	}
}

func TestHandleNonStructInput(t *testing.T) {
	t.Parallel()
	op := Handle(func(_ context.Context, in *[]int) (*struct{}, error) { return &struct{}{}, nil })
	_, err := op(context.Background(), []byte(`{"a":1}`))
	var got *Error
	if !errors.As(err, &got) || got.Message != "Unexpected value type in payload at offset 1" {
		t.Errorf("error = %v, want a SerializationException at offset 1", err)
	}
}

func TestHandleNilOutput(t *testing.T) {
	t.Parallel()
	op := Handle(func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
	out, err := op(context.Background(), nil)
	if out != nil || err != nil {
		t.Errorf("op() = %#v, %v; want untyped nil, nil", out, err)
	}
}

func TestHandleNilFunc(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("Handle(nil) did not panic")
		}
	}()
	Handle[struct{}, struct{}](nil)
}

// selfDecoding counts its members by hand instead of decoding them, so a
// test can tell which decoder ran.
type selfDecoding struct {
	Count int `json:"count"` // json.Unmarshal would reject {"count":"x"}
	calls int
}

func (in *selfDecoding) UnmarshalAWSJSON(body []byte) error {
	in.calls++
	switch string(body) {
	case `{"count":1}`:
		return &json.UnmarshalTypeError{Value: "number", Type: reflect.TypeFor[string](), Field: "items.name", Offset: 10}
	case `{"count":2}`:
		return &Error{Code: "InvalidRequestException", Message: "bad member", Status: 400}
	}
	in.Count = len(body)
	return nil
}

func TestHandleUnmarshaler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want selfDecoding
		err  *Error
	}{
		{name: "used instead of encoding/json", body: `{"count":"x"}`, want: selfDecoding{Count: 13, calls: 1}},
		{name: "blank body is {} without a call", body: " \n", want: selfDecoding{}},
		{name: "type error maps like encoding/json's", body: `{"count":1}`, err: serializationError("Unexpected value type in payload at 'items.name'")},
		{name: "APIError passes through", body: `{"count":2}`, err: &Error{Code: "InvalidRequestException", Message: "bad member", Status: 400}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got *selfDecoding
			op := Handle(func(_ context.Context, in *selfDecoding) (*struct{}, error) {
				got = in
				return nil, nil
			})
			_, err := op(context.Background(), []byte(tc.body))
			if tc.err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error = %v, want %v", err, tc.err)
				}
				if diff := cmp.Diff(tc.err, e); diff != "" {
					t.Errorf("error mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("op: %v", err)
			}
			if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(selfDecoding{})); diff != "" {
				t.Errorf("input mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
