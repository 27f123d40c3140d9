// Package datapipeline implements the AWS Data Pipeline API (version
// 2012-10-29) in domain terms: one typed method on [Service] per operation,
// wire shapes named as the service model names them, the model's input
// constraints, and the API's exceptions.
//
// The HTTP protocol is not here: [Service.Ops] returns the operation table
// that awsjson serves. Persistence is not here either: Service talks to a
// store.Store and never to a particular backend. Every method validates its
// input first, so callers other than HTTP (the console, tests) get the same
// guarantees.
//
// Errors returned by Service methods are *Error values carrying the wire
// exception code, or internal errors that the protocol layer turns into a
// generic InternalServiceError.
package datapipeline
