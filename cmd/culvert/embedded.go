package main

import (
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/culvert/culvert/internal/runner"
	"github.com/culvert/culvert/internal/sigv4"
)

// internalKeys adds to the access keys culvert serve was given one key per
// account, made up at start-up and never written anywhere, for the
// embedded runner: it talks to the API like any runner, signed, and must
// poll the worker groups of whichever account owns a resource, whatever
// keys the credentials file holds.
type internalKeys struct {
	base sigv4.CredentialStore

	mu        sync.Mutex
	byKey     map[string]sigv4.Credential
	byAccount map[string]sigv4.Credential
}

func newInternalKeys(base sigv4.CredentialStore) *internalKeys {
	return &internalKeys{base: base, byKey: map[string]sigv4.Credential{}, byAccount: map[string]sigv4.Credential{}}
}

// Lookup implements [sigv4.CredentialStore].
func (k *internalKeys) Lookup(accessKeyID string) (sigv4.Credential, bool) {
	k.mu.Lock()
	c, ok := k.byKey[accessKeyID]
	k.mu.Unlock()
	if ok {
		return c, true
	}
	return k.base.Lookup(accessKeyID)
}

// forAccount returns the internal key of account, making it on first use.
func (k *internalKeys) forAccount(account string) sigv4.Credential {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.byAccount[account]; ok {
		return c
	}
	// An access key id is upper-case letters and digits; rand.Text is
	// base32, so upper-case it is.
	c := sigv4.Credential{AccessKeyID: "CVINTERNAL" + rand.Text()[:16], SecretAccessKey: rand.Text() + rand.Text(), AccountID: account}
	k.byKey[c.AccessKeyID], k.byAccount[account] = c, c
	return c
}

// embeddedAPI returns the FleetConfig.API of culvert serve's embedded
// runner: a client of this server at endpoint, signing with account's
// internal key.
func embeddedAPI(keys *internalKeys, endpoint string, slots int) func(account string) (runner.API, error) {
	return func(account string) (runner.API, error) {
		c := keys.forAccount(account)
		cfg := aws.Config{
			Region:      "us-east-1", // any region signs; culvert accepts them all
			Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		}
		return runner.NewClient(cfg, endpoint, slots), nil
	}
}

// loopbackURL is the URL the embedded runner reaches the API at: the
// listener's own address, or the loopback address of its port when it
// listens on every address.
func loopbackURL(addr net.Addr) (string, error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "", fmt.Errorf("listener address %v is not TCP", addr)
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.Equal(net.IPv6unspecified):
		ip = net.IPv6loopback
	}
	host := ip.String()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("http://%s:%d", host, tcp.Port), nil
}
