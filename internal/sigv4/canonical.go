package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// appendCanonicalRequest appends the SigV4 canonical request for r to buf:
//
//	METHOD \n URI \n QUERY \n name:value \n ... \n \n SIGNED_HEADERS \n PAYLOAD_HASH
//
// signedHeaders has passed checkSignedHeaders. It reports false if the query
// string cannot be decoded, which no signer produces.
func appendCanonicalRequest(buf []byte, r *http.Request, signedHeaders string, bodyLen int, payloadHash []byte) ([]byte, bool) {
	method := r.Method
	if method == "" {
		method = http.MethodGet // net/http's meaning of an empty Method
	}
	buf = append(buf, method...)
	buf = append(buf, '\n')

	path, rawQuery := "/", ""
	if r.URL != nil {
		path, rawQuery = r.URL.EscapedPath(), r.URL.RawQuery
	}
	buf = appendCanonicalURI(buf, path)
	buf = append(buf, '\n')

	buf, ok := appendCanonicalQuery(buf, rawQuery)
	if !ok {
		return buf, false
	}
	buf = append(buf, '\n')

	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		buf = append(buf, name...)
		buf = append(buf, ':')
		switch name {
		case "host":
			// net/http moves Host out of r.Header.
			buf = appendHeaderValue(buf, r.Host)
		case "content-length":
			// Requests built in-process (httptest, http.NewRequest) carry
			// the length only in r.ContentLength; a chunked body has none
			// and is signed with the length of what arrived.
			if v := headerValues(r.Header, name); len(v) > 0 {
				buf = appendHeaderValues(buf, v)
			} else if r.ContentLength >= 0 {
				buf = strconv.AppendInt(buf, r.ContentLength, 10)
			} else {
				buf = strconv.AppendInt(buf, int64(bodyLen), 10)
			}
		default:
			buf = appendHeaderValues(buf, headerValues(r.Header, name))
		}
		buf = append(buf, '\n')
	}
	buf = append(buf, '\n')
	buf = append(buf, signedHeaders...)
	buf = append(buf, '\n')
	buf = append(buf, payloadHash...)
	return buf, true
}

// appendCanonicalURI encodes the already-escaped request path once more, as
// SigV4 requires for every service but S3: each byte outside the unreserved
// set except '/' becomes %XX, so "%20" in the path is signed as "%2520".
// This is what the SDK signers do; paths are not normalised because they do
// not normalise them either.
func appendCanonicalURI(buf []byte, path string) []byte {
	if path == "" {
		return append(buf, '/')
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' || unreserved(c) {
			buf = append(buf, c)
		} else {
			buf = appendPercent(buf, c)
		}
	}
	return buf
}

// appendCanonicalQuery decodes the query and re-encodes every name and value
// with the SigV4 rule, then sorts the pairs by encoded name and value. The
// specification sorts after encoding, and the two orders can differ.
func appendCanonicalQuery(buf []byte, rawQuery string) ([]byte, bool) {
	if rawQuery == "" {
		return buf, true // every Data Pipeline request
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return buf, false
	}
	type pair struct{ name, value string }
	var pairs []pair
	for name, vs := range values {
		n := string(appendEncoded(nil, name))
		for _, v := range vs {
			pairs = append(pairs, pair{n, string(appendEncoded(nil, v))})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range pairs {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, p.name...)
		buf = append(buf, '=')
		buf = append(buf, p.value...)
	}
	return buf, true
}

// appendEncoded URI-encodes s with the SigV4 rule: unreserved characters stay,
// everything else (space and '/' included) becomes %XX in uppercase hex.
func appendEncoded(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			buf = append(buf, c)
		} else {
			buf = appendPercent(buf, c)
		}
	}
	return buf
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func appendPercent(buf []byte, c byte) []byte {
	const upperHex = "0123456789ABCDEF"
	return append(buf, '%', upperHex[c>>4], upperHex[c&0xf])
}

// headerValues returns the values of the header whose lowercase name is
// given. It looks the name up in canonical form, which is how net/http stores
// the headers it reads; it does not scan for other spellings, as that would
// let a long SignedHeaders list cost time quadratic in the header size.
func headerValues(h http.Header, lower string) []string {
	var key [64]byte
	if len(lower) > len(key) {
		return h[textproto.CanonicalMIMEHeaderKey(lower)]
	}
	// Indexing a map with string(bytes) does not allocate.
	return h[string(appendCanonicalKey(key[:0], lower))]
}

// appendCanonicalKey is textproto.CanonicalMIMEHeaderKey for a name known to
// be a lowercase token: upper-case the first letter and each letter after '-'.
func appendCanonicalKey(buf []byte, lower string) []byte {
	upper := true
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf = append(buf, c)
		upper = c == '-'
	}
	return buf
}

// appendHeaderValues joins the values of one header with ',', each trimmed
// and with runs of spaces collapsed, as the specification and the SDK
// signers do.
func appendHeaderValues(buf []byte, values []string) []byte {
	for i, v := range values {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendHeaderValue(buf, v)
	}
	return buf
}

func appendHeaderValue(buf []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		buf = append(buf, v[i])
	}
	return buf
}

// appendStringToSign appends
//
//	AWS4-HMAC-SHA256 \n TIMESTAMP \n SCOPE \n hex(sha256(canonical request))
func appendStringToSign(buf []byte, stamp, scope string, canonicalRequest []byte) []byte {
	sum := sha256.Sum256(canonicalRequest)
	buf = append(buf, algorithm...)
	buf = append(buf, '\n')
	buf = append(buf, stamp...)
	buf = append(buf, '\n')
	buf = append(buf, scope...)
	buf = append(buf, '\n')
	return hex.AppendEncode(buf, sum[:])
}

// signingKey derives the key for one day, region and service from the
// secret, so a leaked signature exposes nothing wider than that scope.
func signingKey(secret, date, region, service string) [32]byte {
	var buf [128]byte
	k := hmacSHA256(append(append(buf[:0], "AWS4"...), secret...), []byte(date))
	k = hmacSHA256(k[:], []byte(region))
	k = hmacSHA256(k[:], []byte(service))
	return hmacSHA256(k[:], []byte(terminator))
}

// hmacSHA256 is HMAC-SHA256 as RFC 2104 defines it:
//
//	H((K ^ opad) || H((K ^ ipad) || data))
//
// It is written out over sha256.Sum256 rather than taken from crypto/hmac
// because hmac.New allocates its two hash states and pads on every call, and
// a request needs five HMACs; this version keeps everything on the stack.
// TestHMACSHA256 checks it against crypto/hmac.
func hmacSHA256(key, data []byte) [32]byte {
	const blockSize = sha256.BlockSize
	if len(key) > blockSize {
		sum := sha256.Sum256(key)
		key = sum[:]
	}
	var buf [blockSize + 256]byte
	inner := buf[:blockSize]
	copy(inner, key)
	for i := range inner {
		inner[i] ^= 0x36
	}
	innerSum := sha256.Sum256(append(inner, data...))

	var outer [blockSize + sha256.Size]byte
	copy(outer[:], key)
	for i := range blockSize {
		outer[i] ^= 0x5c
	}
	copy(outer[blockSize:], innerSum[:])
	return sha256.Sum256(outer[:])
}
