// Package alarmtest holds a fake SNS endpoint for tests: the network edge
// that the real aws-sdk-go-v2 SNS client talks to over HTTP, so that the
// alarm sink and the end-to-end tests exercise the SDK's real requests.
package alarmtest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sync"
)

// SNS answers Publish in the AWS query protocol, recording each request.
// It is safe for concurrent use.
type SNS struct {
	mu        sync.Mutex
	published []url.Values
	auth      []string
	fail      []string
	got       chan struct{}
}

// NewSNS returns a fake that answers its first calls with the error codes
// in fail, in turn ("InternalError" as a server fault, others as client
// faults), and the rest with success.
func NewSNS(fail ...string) *SNS {
	return &SNS{fail: fail, got: make(chan struct{}, 1000)}
}

// Published returns the forms of the calls so far and their Authorization
// headers.
func (f *SNS) Published() ([]url.Values, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.published...), append([]string(nil), f.auth...)
}

// Got receives once per call.
func (f *SNS) Got() <-chan struct{} { return f.got }

// ServeHTTP implements [http.Handler].
func (f *SNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() { f.got <- struct{}{} }()
	f.published = append(f.published, r.PostForm)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	w.Header().Set("Content-Type", "text/xml")
	if r.PostForm.Get("Action") != "Publish" {
		f.fail = append([]string{"InvalidAction"}, f.fail...)
	}
	if len(f.fail) > 0 {
		code := f.fail[0]
		f.fail = f.fail[1:]
		status, typ := http.StatusBadRequest, "Sender"
		if code == "InternalError" {
			status, typ = http.StatusInternalServerError, "Receiver"
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>%s</Type><Code>%s</Code><Message>`, typ, code)
		xml.EscapeText(w, []byte(code+" happened"))
		fmt.Fprint(w, `</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`)
		return
	}
	fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-%d</MessageId></PublishResult>`+
		`<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`, len(f.published))
}
