package measure

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/smithy-go"
)

// ErrorCount is one distinct error message and how often it occurred.
type ErrorCount struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Tally counts one occurrence of err in distinct, which keeps at most
// limit distinct messages, and returns the updated list.
func Tally(distinct []ErrorCount, err error, limit int) []ErrorCount {
	msg := NormalizeError(err)
	for i := range distinct {
		if distinct[i].Message == msg {
			distinct[i].Count++
			return distinct
		}
	}
	if len(distinct) < limit {
		distinct = append(distinct, ErrorCount{Message: msg, Count: 1})
	}
	return distinct
}

var (
	reRequestID = regexp.MustCompile(`RequestID: [^,]*, `)
	reLocalPort = regexp.MustCompile(`127\.0\.0\.1:\d+->`)
)

// NormalizeError renders err so that occurrences of the same failure
// compare equal: no request ids, no ephemeral ports.
func NormalizeError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout: " + err.Error()
	}
	s := reRequestID.ReplaceAllString(err.Error(), "")
	return reLocalPort.ReplaceAllString(s, "127.0.0.1:*->")
}
