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
// client error.
func (e *Error) HTTPStatus() int {
	if e.Code == CodeInternalServiceError {
		return http.StatusInternalServerError
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
