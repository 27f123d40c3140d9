package awsjson

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Time is a timestamp member of an AWS JSON 1.1 shape, such as
// ActivatePipelineInput's startTimestamp. On the wire it is epoch seconds
// as a JSON number with up to millisecond precision: aws-sdk-go-v2 sends
// FormatEpochSeconds (milliseconds / 1e3), botocore sends an integer or
// seconds plus milliseconds. Shapes use *Time so that an absent member
// stays nil.
type Time struct{ time.Time }

// Limits keep decoded timestamps within years 0001 to 9999, where every
// value has a millisecond representation and formats as RFC 3339.
const (
	minEpochSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxEpochSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

// MarshalJSON writes t as epoch seconds, truncated to milliseconds: an
// integer when there is no fraction, else a decimal such as
// 1700000000.123.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1e3, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds from a JSON number. Decimal numbers
// are read exactly, not through float64, so 1700000000.123 is 123ms and
// not 122.999ms; numbers with an exponent go through float64 and are
// rounded to the microsecond. null leaves t unchanged, as encoding/json does for other
// types. Anything else, or a time outside years 0001-9999, is a
// *json.UnmarshalTypeError, which [Handle] reports as a
// SerializationException naming the member.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	sec, nsec, ok := parseEpoch(b)
	if !ok {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[Time]()}
	}
	t.Time = time.Unix(sec, nsec).UTC()
	return nil
}

// parseEpoch parses a JSON number of epoch seconds. It reports false if b
// is not a number or is out of range.
func parseEpoch(b []byte) (sec, nsec int64, ok bool) {
	if len(b) == 0 || (b[0] != '-' && !isDigit(b[0])) {
		return 0, 0, false
	}
	if bytes.ContainsAny(b, "eE") {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || f < minEpochSeconds || f > maxEpochSeconds+1 {
			return 0, 0, false
		}
		// float64 keeps only about 0.2µs of a current timestamp, so round
		// to the microsecond rather than report float noise as
		// nanoseconds. (No SDK sends this form; it is accepted because it
		// is a JSON number.)
		whole := math.Floor(f)
		sec, nsec = int64(whole), int64(math.Round((f-whole)*1e6))*1e3
		if nsec >= 1e9 {
			sec, nsec = sec+1, nsec-1e9
		}
		return sec, nsec, sec >= minEpochSeconds && sec <= maxEpochSeconds
	}
	intPart, frac, _ := bytes.Cut(b, []byte{'.'})
	sec, err := strconv.ParseInt(string(intPart), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	for i, c := range frac {
		if !isDigit(c) {
			return 0, 0, false
		}
		if i < 9 { // digits beyond nanoseconds are dropped
			nsec = nsec*10 + int64(c-'0')
		}
	}
	for i := len(frac); i < 9; i++ {
		nsec *= 10
	}
	if intPart[0] == '-' && nsec > 0 {
		// -1.5 is 1.5s before the epoch: -2s + 0.5s.
		sec, nsec = sec-1, 1e9-nsec
	}
	return sec, nsec, sec >= minEpochSeconds && sec <= maxEpochSeconds
}

// jsonKind names the JSON type of a value for an UnmarshalTypeError, as
// encoding/json does.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "value"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number " + clip(string(b), 32)
}
