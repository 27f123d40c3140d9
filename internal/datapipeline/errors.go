package datapipeline

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/culvert/culvert/internal/store"
)

// Exception codes, the wire __type values of the model's errors.
const (
	CodeInternalServiceError      = "InternalServiceError"
	CodeInvalidRequestException   = "InvalidRequestException"
	CodePipelineDeletedException  = "PipelineDeletedException"
	CodePipelineNotFoundException = "PipelineNotFoundException"
	CodeTaskNotFoundException     = "TaskNotFoundException"
)

// Codes of the errors of culvert's own logs endpoint (GET /logs/…), which
// the Data Pipeline model does not cover: names other AWS services use
// for the same meanings (docs/assumptions/0022-attempt-logs.md).
const (
	CodeAccessDeniedException     = "AccessDeniedException"
	CodeLogsUnavailableException  = "LogsUnavailableException"
	CodeResourceNotFoundException = "ResourceNotFoundException"
)

// Error is an API exception.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the wire __type.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the message shown to the caller.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatus returns 500 for the model's one server fault and 400 for every
// client error of the model; the logs endpoint's own errors have the
// statuses their names promise.
func (e *Error) HTTPStatus() int {
	switch e.Code {
	case CodeInternalServiceError:
		return http.StatusInternalServerError
	case CodeAccessDeniedException:
		return http.StatusForbidden
	case CodeResourceNotFoundException:
		return http.StatusNotFound
	case CodeLogsUnavailableException:
		return http.StatusBadGateway
	}
	return http.StatusBadRequest
}

func invalidRequest(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidRequestException, Message: fmt.Sprintf(format, args...)}
}

func pipelineNotFound(id string) *Error {
	return &Error{Code: CodePipelineNotFoundException, Message: fmt.Sprintf(
		"Pipeline %s was not found. Verify that you used the correct user and account identifiers.", id)}
}

func pipelineDeleted(id string) *Error {
	return &Error{Code: CodePipelineDeletedException, Message: fmt.Sprintf("Pipeline %s has been deleted.", id)}
}

func taskNotFound() *Error {
	return &Error{Code: CodeTaskNotFoundException,
		Message: "The specified task was not found. It may have finished, been reassigned, or never existed."}
}

func resourceNotFound(format string, args ...any) *Error {
	return &Error{Code: CodeResourceNotFoundException, Message: fmt.Sprintf(format, args...)}
}

func accessDenied(format string, args ...any) *Error {
	return &Error{Code: CodeAccessDeniedException, Message: fmt.Sprintf(format, args...)}
}

func logsUnavailable(format string, args ...any) *Error {
	return &Error{Code: CodeLogsUnavailableException, Message: fmt.Sprintf(format, args...)}
}

// pipelineError translates a store error about pipeline id into the API's
// terms. Errors it does not know pass through as internal errors.
func pipelineError(err error, id string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return pipelineNotFound(id)
	case errors.Is(err, store.ErrDeleted):
		return pipelineDeleted(id)
	}
	return err
}
