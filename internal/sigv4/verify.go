package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credential is one access key known to the server.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	// AccountID is the 12-digit account that owns everything created with
	// this key.
	AccountID string
}

// CredentialStore looks up access keys.
type CredentialStore interface {
	// Lookup returns the credential for accessKeyID, or ok=false if the key
	// is unknown. It is called on every request and must be safe for
	// concurrent use.
	Lookup(accessKeyID string) (c Credential, ok bool)
}

// Static is a [CredentialStore] backed by a map keyed by access key id. It
// must not be modified while a [Verifier] uses it.
type Static map[string]Credential

// Lookup implements [CredentialStore].
func (s Static) Lookup(accessKeyID string) (Credential, bool) {
	c, ok := s[accessKeyID]
	return c, ok
}

// DevCredential is the built-in development key pair, the example key from
// the AWS documentation, which culvert accepts when no credentials file is
// given.
var DevCredential = Credential{
	AccessKeyID:     "AKIDEXAMPLE",
	SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	AccountID:       "123456789012",
}

// DefaultMaxSkew is how far a request's date may be from the server clock
// when [Verifier.MaxSkew] is zero; it is the window AWS enforces.
const DefaultMaxSkew = 15 * time.Minute

// Verifier checks AWS Signature Version 4 on requests. Its zero value is not
// usable: Credentials must be set. A Verifier is safe for concurrent use if
// its Credentials are.
type Verifier struct {
	// Credentials resolves the access key a request names. A nil store
	// knows no keys.
	Credentials CredentialStore
	// Service is the signing name the credential scope must carry, such as
	// "datapipeline". Empty accepts any service. Any region is accepted:
	// on a self-hosted server the region is the client's choice.
	Service string
	// MaxSkew bounds the distance between the request date and Now, in
	// either direction. Zero or negative means [DefaultMaxSkew].
	MaxSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// keys caches each access key's last signing key: a key is good for a
	// whole day, region and service, and deriving it costs four HMACs on
	// every request. One entry per known key keeps the cache bounded, since
	// unknown keys are rejected before derivation.
	keys sync.Map // access key id → *derivedKey
}

type derivedKey struct {
	secret, date, region, service string
	key                           [32]byte
}

// isoBasic is the X-Amz-Date layout.
const isoBasic = "20060102T150405Z"

// Verify checks the signature in the Authorization header of r and returns
// the credential that signed it. body is the request body, already read by
// the caller; it is hashed here rather than trusted from a header because the
// SDKs send no X-Amz-Content-Sha256 to JSON services. If that header is sent
// anyway, it must equal the hash of body: an unsigned payload is not
// accepted.
//
// Every error is an [*Error]:
//   - MissingAuthenticationTokenException (403) if there is no Authorization
//     header, or it is empty;
//   - IncompleteSignatureException (400) if the header, the signed header
//     list or the request date is malformed or missing;
//   - UnrecognizedClientException (403) if the access key is unknown;
//   - InvalidSignatureException (403) if the signature does not match, the
//     scope names another service or another day than the request date, or
//     the request date is more than MaxSkew from Now.
//
// Cheap checks run first, so a stale or unknown request costs no hashing.
func (v *Verifier) Verify(r *http.Request, body []byte) (Credential, error) {
	header := r.Header["Authorization"]
	if len(header) == 0 || header[0] == "" {
		return Credential{}, missingToken()
	}
	if len(header) > 1 {
		return Credential{}, incomplete("Authorization header must appear only once.")
	}
	a, err := parseAuthorization(header[0])
	if err != nil {
		return Credential{}, err
	}
	t, stamp, err := requestTime(r.Header)
	if err != nil {
		return Credential{}, err
	}
	if v.Service != "" && a.service != v.Service {
		return Credential{}, invalidSignature("Credential should be scoped to correct service: '" + v.Service + "'.")
	}
	// A scope dated another day than the request would be signed with
	// another day's key. AWS calls that an invalid signature, not a
	// malformed header, and uses this wording.
	if a.date != stamp[:8] {
		return Credential{}, invalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			a.date + "' != '" + stamp[:8] + "', from '" + stamp + "'.")
	}
	if err := v.checkSkew(t, stamp); err != nil {
		return Credential{}, err
	}
	var cred Credential
	ok := false
	if v.Credentials != nil {
		cred, ok = v.Credentials.Lookup(a.accessKeyID)
	}
	if !ok {
		return Credential{}, unrecognizedClient()
	}

	sum := sha256.Sum256(body)
	var payloadHash [2 * sha256.Size]byte
	hex.Encode(payloadHash[:], sum[:])
	if h, ok := r.Header["X-Amz-Content-Sha256"]; ok && (len(h) != 1 || h[0] != string(payloadHash[:])) {
		return Credential{}, invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}

	// Both buffers fit a typical SDK request, so they stay on the stack;
	// append moves anything larger to the heap.
	var crBuf [1024]byte
	canonical, ok := appendCanonicalRequest(crBuf[:0], r, a.signedHeaders, len(body), payloadHash[:])
	if !ok {
		return Credential{}, signatureMismatch()
	}
	var stsBuf [256]byte
	sts := appendStringToSign(stsBuf[:0], stamp, a.scope, canonical)
	key := v.signingKey(cred, a)
	want := hmacSHA256(key[:], sts)
	if !hmac.Equal(want[:], a.signature[:]) {
		return Credential{}, signatureMismatch()
	}
	return cred, nil
}

// signingKey returns the signing key for the request's scope, derived once
// per access key, day, region and service.
func (v *Verifier) signingKey(cred Credential, a authorization) [32]byte {
	if e, ok := v.keys.Load(cred.AccessKeyID); ok {
		d := e.(*derivedKey)
		if d.secret == cred.SecretAccessKey && d.date == a.date && d.region == a.region && d.service == a.service {
			return d.key
		}
	}
	key := signingKey(cred.SecretAccessKey, a.date, a.region, a.service)
	v.keys.Store(cred.AccessKeyID, &derivedKey{
		secret: cred.SecretAccessKey, date: strings.Clone(a.date), region: strings.Clone(a.region),
		service: strings.Clone(a.service), key: key,
	})
	return key
}

// requestTime returns the request date from X-Amz-Date or, failing that,
// Date, with the X-Amz-Date form of it that goes into the string to sign.
func requestTime(h http.Header) (time.Time, string, error) {
	if v := h["X-Amz-Date"]; len(v) > 0 {
		// time.Parse alone would accept one-digit hours and signed years,
		// and the stamp is signed byte for byte, so check the shape first.
		s := v[0]
		if !isBasicStamp(s) {
			return time.Time{}, "", incomplete("X-Amz-Date must be in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z'), got " + quote(s) + ".")
		}
		t, err := time.Parse(isoBasic, s)
		if err != nil {
			return time.Time{}, "", incomplete("X-Amz-Date is not a valid date: " + quote(s) + ".")
		}
		return t, s, nil
	}
	if v := h["Date"]; len(v) > 0 {
		t, err := http.ParseTime(v[0])
		if err != nil {
			return time.Time{}, "", incomplete("Date header must be an HTTP date such as 'Mon, 02 Jan 2006 15:04:05 GMT', got " + quote(v[0]) + ".")
		}
		t = t.UTC()
		return t, t.Format(isoBasic), nil
	}
	return time.Time{}, "", incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

func isBasicStamp(s string) bool {
	return len(s) == len(isoBasic) && isDigits(s[:8]) && s[8] == 'T' && isDigits(s[9:15]) && s[15] == 'Z'
}

// checkSkew rejects requests dated too far from now, which bounds how long a
// captured request can be replayed.
func (v *Verifier) checkSkew(t time.Time, stamp string) error {
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()
	if earliest := n.Add(-skew); t.Before(earliest) {
		return invalidSignature("Signature expired: " + stamp + " is now earlier than " + earliest.Format(isoBasic) +
			" (" + n.Format(isoBasic) + " - " + skewText(skew) + ")")
	}
	if latest := n.Add(skew); t.After(latest) {
		return invalidSignature("Signature not yet current: " + stamp + " is still later than " + latest.Format(isoBasic) +
			" (" + n.Format(isoBasic) + " + " + skewText(skew) + ")")
	}
	return nil
}

// skewText renders the window as AWS does ("15 min.").
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return d.String()
}
