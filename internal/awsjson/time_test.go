package awsjson

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestTimeUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: `1700000000`, want: time.Unix(1700000000, 0)},
		{in: `1700000000.123`, want: time.Unix(1700000000, 123e6)},
		{in: `1700000000.5`, want: time.Unix(1700000000, 5e8)},
		{in: `1700000000.123456789123`, want: time.Unix(1700000000, 123456789)},
		{in: `1.7e9`, want: time.Unix(1700000000, 0)},
		{in: `17000000001E-1`, want: time.Unix(1700000000, 1e8)},
		{in: `0`, want: time.Unix(0, 0)},
		{in: `-1.5`, want: time.Unix(-2, 5e8)},
		{in: `-0.25`, want: time.Unix(-1, 75e7)},
		{in: `253402300799`, want: time.Unix(253402300799, 0)},
		{in: `-62135596800`, want: time.Unix(-62135596800, 0)},
		{in: `253402300800`, wantErr: true},
		{in: `-62135596801`, wantErr: true},
		{in: `1e300`, wantErr: true},
		{in: `99999999999999999999`, wantErr: true},
		{in: `"1700000000"`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
		{in: `[]`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			var got struct {
				T Time `json:"t"`
			}
			err := json.Unmarshal([]byte(`{"t":`+tc.in+`}`), &got)
			if tc.wantErr {
				var typeErr *json.UnmarshalTypeError
				if !errors.As(err, &typeErr) || typeErr.Field != "t" {
					t.Errorf("Unmarshal(%s) = %v, want an UnmarshalTypeError at t", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s) = %v", tc.in, err)
			}
			if !got.T.Equal(tc.want) || got.T.Location() != time.UTC {
				t.Errorf("Unmarshal(%s) = %v, want %v in UTC", tc.in, got.T.Time, tc.want.UTC())
			}
		})
	}
}

func TestTimeNullKeepsValue(t *testing.T) {
	t.Parallel()
	v := Time{time.Unix(5, 0)}
	if err := json.Unmarshal([]byte(`null`), &v); err != nil || !v.Equal(time.Unix(5, 0)) {
		t.Errorf("Unmarshal(null) = %v, %v; want unchanged", v, err)
	}
}

func TestTimeMarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Unix(1700000000, 0), `1700000000`},
		{time.Unix(1700000000, 123e6), `1700000000.123`},
		{time.Unix(1700000000, 123999999), `1700000000.123`}, // truncated to ms
		{time.Unix(1700000000, 5e8), `1700000000.5`},
		{time.Unix(0, 0), `0`},
		{time.Unix(-2, 5e8), `-1.5`},
	}
	for _, tc := range tests {
		got, err := json.Marshal(Time{tc.in})
		if err != nil || string(got) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
		var back Time
		if err := json.Unmarshal(got, &back); err != nil || !back.Equal(tc.in.Truncate(time.Millisecond)) {
			t.Errorf("round trip of %v = %v, %v", tc.in, back.Time, err)
		}
	}
}
