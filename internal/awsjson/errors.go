package awsjson

import "net/http"

// APIError is implemented by any error that should reach the client with
// its own code. The handler finds it anywhere in an error's chain with
// errors.As, so layers may wrap it with context. Declaring the interface
// here, rather than importing the packages that implement it, keeps
// awsjson free of domain knowledge (the idea of smithy-go's APIError).
type APIError interface {
	// ErrorCode is the wire "__type", such as "InvalidRequestException".
	ErrorCode() string
	// ErrorMessage is the wire "message". It is sent to the client, so it
	// must not carry internal detail.
	ErrorMessage() string
	// HTTPStatus is the response status, 400 to 599.
	HTTPStatus() int
}

// Error is a protocol-level error: a problem with the request as an AWS
// JSON 1.1 message rather than with what it asks for. It implements error
// and [APIError].
type Error struct {
	Code    string // wire __type
	Message string // wire message
	Status  int    // HTTP status; 0 means 400
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns e.Code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns e.Message.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatus returns e.Status, or 400 if it is unset: client faults are
// 400 in the AWS JSON protocols unless a shape says otherwise.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Wire names of the protocol errors defined here. They match what AWS
// JSON services send and what botocore and aws-sdk-go-v2 recognise.
const (
	codeUnknownOperation = "UnknownOperationException"
	codeSerialization    = "SerializationException"
	codeTooLarge         = "RequestEntityTooLargeException"
	codeInternal         = "InternalServiceError"

	// msgInternal is all a client learns about an unexpected failure.
	msgInternal = "An internal service error occurred."
)

func unknownOperation(msg string) *Error {
	return &Error{Code: codeUnknownOperation, Message: msg, Status: http.StatusBadRequest}
}

func serializationError(msg string) *Error {
	return &Error{Code: codeSerialization, Message: msg, Status: http.StatusBadRequest}
}
