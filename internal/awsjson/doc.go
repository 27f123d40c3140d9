// Package awsjson serves the AWS JSON 1.1 protocol: it turns a POST / with
// an X-Amz-Target header into a call on an operation table and turns the
// result back into a response that botocore and aws-sdk-go-v2 accept.
//
// A [Handler] does everything that is the same for every operation, in a
// fixed order: it assigns a request id, reads the body under a size limit,
// verifies the caller (SigV4, supplied by the caller as [Handler.Verify])
// before decoding anything, dispatches on X-Amz-Target, validates the body
// with a strict single-pass scanner (valid UTF-8, no duplicate members, a
// nesting limit), calls the [Op], and writes either the output or the
// {"__type","message"} error envelope. Operations are plain typed
// functions adapted by [Handle]. [Handler.Serve] gives requests outside
// the protocol that are served beside it (culvert's GET of an attempt's
// logs) the same request id, verification and error envelope.
//
// Errors reach the wire through [APIError], an interface this package
// declares and other layers implement, so awsjson knows nothing about
// pipelines and imports only the standard library (deps_test.go enforces
// that). Anything that is not an APIError becomes a generic 500
// InternalServiceError; the detail is logged with the request id, never
// sent. The status codes and __type names of protocol errors are pinned by
// handler_test.go.
package awsjson
