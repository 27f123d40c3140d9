package pipeline

import (
	"crypto/rand"
	"strings"
)

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// NewPipelineID returns a fresh pipeline id shaped like AWS's: "df-" and 19
// upper-case alphanumerics. 36^19 values make a collision between two live
// pipelines practically impossible; the store still rejects one.
func NewPipelineID() string {
	var b [19]byte
	rand.Read(b[:]) // never fails: crypto/rand panics rather than return an error.
	var s strings.Builder
	s.Grow(3 + len(b))
	s.WriteString("df-")
	for _, c := range b {
		// 256 is not a multiple of 36, so the first four characters are a
		// little likelier (8/256 against 7/256); harmless for an identifier.
		s.WriteByte(idAlphabet[int(c)%len(idAlphabet)])
	}
	return s.String()
}

// IsPipelineID reports whether s has the shape of a pipeline id. It does not
// say whether such a pipeline exists.
func IsPipelineID(s string) bool {
	if len(s) < 4 || !strings.HasPrefix(s, "df-") {
		return false
	}
	for i := 3; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
