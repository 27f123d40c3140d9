package sigv4

import (
	"encoding/hex"
	"strings"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
)

// authorization is a parsed Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/datapipeline/aws4_request,
//	SignedHeaders=host;x-amz-date, Signature=<64 hex digits>
//
// The string fields are substrings of the header, so parsing allocates
// nothing on success.
type authorization struct {
	accessKeyID string
	// scope is "date/region/service/aws4_request" exactly as the client sent
	// it; the string to sign must repeat it byte for byte.
	scope         string
	date          string // YYYYMMDD
	region        string
	service       string
	signedHeaders string // lowercase, sorted, ';'-separated, includes "host"
	signature     [32]byte
}

// parseAuthorization parses and checks the syntax of an Authorization header.
// It never panics, whatever the input. Every failure is an
// IncompleteSignatureException, which is how AWS reports malformed headers.
//
// Parameters may come in any order, separated by commas with optional
// spaces, as the specification allows; an unknown, repeated or empty
// parameter is rejected rather than ignored, so that what was verified is
// exactly what was sent.
func parseAuthorization(s string) (authorization, error) {
	var a authorization
	alg, rest, _ := strings.Cut(s, " ")
	if alg != algorithm {
		return a, incomplete("Authorization header must use the " + algorithm + " algorithm, got " + quote(alg) + ".")
	}

	var credential, signedHeaders, signature string
	var haveCredential, haveSignedHeaders, haveSignature bool
	for more := rest != ""; more; {
		var param string
		param, rest, more = strings.Cut(rest, ",")
		param = strings.TrimSpace(param)
		key, value, ok := strings.Cut(param, "=")
		if !ok {
			return a, incomplete("Authorization header parameter " + quote(param) + " is not of the form key=value.")
		}
		var seen *bool
		switch key {
		case "Credential":
			credential, seen = value, &haveCredential
		case "SignedHeaders":
			signedHeaders, seen = value, &haveSignedHeaders
		case "Signature":
			signature, seen = value, &haveSignature
		default:
			return a, incomplete("Authorization header contains unknown parameter " + quote(key) + ".")
		}
		if *seen {
			return a, incomplete("Authorization header repeats the '" + key + "' parameter.")
		}
		*seen = true
	}

	// AWS names every missing parameter at once; so do we, so that a client
	// author fixes them in one round.
	var missing string
	if !haveCredential {
		missing += "Authorization header requires 'Credential' parameter. "
	}
	if !haveSignature {
		missing += "Authorization header requires 'Signature' parameter. "
	}
	if !haveSignedHeaders {
		missing += "Authorization header requires 'SignedHeaders' parameter. "
	}
	if missing != "" {
		return a, incomplete(strings.TrimSuffix(missing, " "))
	}

	if err := a.parseCredential(credential); err != nil {
		return a, err
	}
	if err := checkSignedHeaders(signedHeaders); err != nil {
		return a, err
	}
	a.signedHeaders = signedHeaders
	if !decodeLowerHex(a.signature[:], signature) {
		return a, incomplete("Signature must be 64 lowercase hexadecimal digits, got " + quote(signature) + ".")
	}
	return a, nil
}

// parseCredential splits "AKID/date/region/service/aws4_request". Access key
// ids never contain '/', so the first '/' ends the key.
func (a *authorization) parseCredential(c string) error {
	akid, scope, _ := strings.Cut(c, "/")
	date, rest, _ := strings.Cut(scope, "/")
	region, rest, _ := strings.Cut(rest, "/")
	service, term, _ := strings.Cut(rest, "/")
	switch {
	case akid == "":
		return incomplete("Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, got " + quote(c) + ".")
	case len(date) != 8 || !isDigits(date):
		return incomplete("Credential scope date must be YYYYMMDD, got " + quote(date) + ".")
	case region == "":
		return incomplete("Credential should be scoped to a valid region, not ''.")
	case service == "":
		return incomplete("Credential should be scoped to a valid service, not ''.")
	case term != terminator:
		return incomplete("Credential should be scoped with a valid terminator: '" + terminator + "', not " + quote(term) + ".")
	}
	a.accessKeyID, a.scope, a.date, a.region, a.service = akid, scope, date, region, service
	return nil
}

// checkSignedHeaders insists on the list the specification describes:
// lowercase header names, sorted, without repeats, and including host. Every
// SigV4 signer produces exactly that, and accepting anything looser would
// leave open which order the client meant its canonical headers in.
func checkSignedHeaders(list string) error {
	if list == "" {
		return incomplete("SignedHeaders must not be empty.")
	}
	var prev string
	host := false
	for rest := list; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if !isLowerToken(name) {
			return incomplete("SignedHeaders must be lowercase header names separated by ';', got " + quote(list) + ".")
		}
		if prev != "" && name <= prev {
			return incomplete("SignedHeaders must be sorted and without repeats, got " + quote(list) + ".")
		}
		prev = name
		host = host || name == "host"
	}
	// A trailing ';' leaves an empty last name that the loop never sees.
	if strings.HasSuffix(list, ";") {
		return incomplete("SignedHeaders must be lowercase header names separated by ';', got " + quote(list) + ".")
	}
	if !host {
		return incomplete("SignedHeaders must include 'host'.")
	}
	return nil
}

// String renders a as a header in the canonical layout that the SDKs send.
// parseAuthorization(a.String()) returns a again.
func (a authorization) String() string {
	return algorithm + " Credential=" + a.accessKeyID + "/" + a.scope +
		", SignedHeaders=" + a.signedHeaders +
		", Signature=" + hex.EncodeToString(a.signature[:])
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeLowerHex fills dst from exactly 2*len(dst) lowercase hex digits. It
// exists because hex.Decode wants a []byte, and converting the 64-byte
// signature string to one would allocate on every request.
func decodeLowerHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := lowerHexDigit(s[2*i])
		lo, ok2 := lowerHexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// isLowerToken reports whether s is a non-empty HTTP field name (an RFC 9110
// token) with no uppercase letters.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
