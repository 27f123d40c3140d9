// Package sigv4 verifies AWS Signature Version 4 on requests arriving at
// culvert, so that the AWS SDKs, the AWS CLI and boto3 can talk to it with
// ordinary access keys.
//
// A [Verifier] recomputes the signature of a request from its method, path,
// query, signed headers and body, using the secret key its [CredentialStore]
// holds for the access key the request names, and reports a failure as an
// [*Error] carrying the exception AWS itself would return
// (MissingAuthenticationTokenException, IncompleteSignatureException,
// UnrecognizedClientException or InvalidSignatureException). Only header
// authentication (an Authorization header) is supported; presigned query
// strings are not, as no Data Pipeline client uses them.
//
// The package imports only the standard library (deps_test.go enforces this),
// so it can sit in front of any handler. The code follows the AWS
// specification top to bottom: parse the Authorization header
// (authorization.go), then build the canonical request, the string to sign,
// the signing key and the signature (canonical.go). The tests sign requests
// with the aws-sdk-go-v2 signer and the real Data Pipeline client and check
// that they verify here.
package sigv4
