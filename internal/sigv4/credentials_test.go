package sigv4

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCredentials(t *testing.T) {
	t.Parallel()
	dev := DevCredential
	other := Credential{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", AccountID: "210987654321"}
	tests := []struct {
		name    string
		in      string
		want    Static
		wantErr string
	}{
		{
			name: "one key",
			in:   "AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY 123456789012\n",
			want: Static{dev.AccessKeyID: dev},
		},
		{
			name: "hash inside a field is not a comment",
			in: "# culvert keys\n\n" +
				"AKIDEXAMPLE\twJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\t123456789012   # dev\n" +
				"   \n" +
				"  # indented comment\n" +
				"AKIAIOSFODNN7EXAMPLE  je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY  210987654321#not-a-comment-start\n",
			wantErr: "line 6: account id \"210987654321#not-a-comment-start\" is not 12 digits",
		},
		{
			name: "comment after fields",
			in: "# culvert keys\n\n" +
				"AKIDEXAMPLE\twJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\t123456789012   # dev\n" +
				"   \n" +
				"  # indented comment\n" +
				"AKIAIOSFODNN7EXAMPLE  je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY  210987654321 #ops\n",
			want: Static{dev.AccessKeyID: dev, other.AccessKeyID: other},
		},
		{
			name: "no final newline, CRLF",
			in:   "AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY 123456789012\r\nAKIAIOSFODNN7EXAMPLE je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY 210987654321",
			want: Static{dev.AccessKeyID: dev, other.AccessKeyID: other},
		},
		{
			name:    "two fields",
			in:      "# keys\nAKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n",
			wantErr: "line 2: want 3 fields (ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID), got 2",
		},
		{
			name:    "four fields",
			in:      "AKIDEXAMPLE secret 123456789012 extra\n",
			wantErr: "line 1: want 3 fields (ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID), got 4",
		},
		{
			name:    "short account",
			in:      "AKIDEXAMPLE secret 12345\n",
			wantErr: "line 1: account id \"12345\" is not 12 digits",
		},
		{
			name:    "letters in account",
			in:      "AKIDEXAMPLE secret 12345678901x\n",
			wantErr: "line 1: account id \"12345678901x\" is not 12 digits",
		},
		{
			name:    "slash in key id",
			in:      "AKID/EXAMPLE secret 123456789012\n",
			wantErr: "line 1: access key id \"AKID/EXAMPLE\" contains '/'",
		},
		{
			name: "duplicate key",
			in: "AKIDEXAMPLE secret1 123456789012\n" +
				"\n" +
				"AKIDEXAMPLE secret2 210987654321\n",
			wantErr: "line 3: duplicate access key id \"AKIDEXAMPLE\" (first on line 1)",
		},
		{
			name:    "line too long",
			in:      "AKIDEXAMPLE secret 123456789012\n# " + strings.Repeat("x", 70_000) + "\n",
			wantErr: "line 2: line too long",
		},
		{
			name:    "empty",
			in:      "# nothing here\n\n",
			wantErr: "no access keys found",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCredentials(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ParseCredentials() error = %v, want %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("ParseCredentials() = %v, want nil with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCredentials() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseCredentials() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseCredentialsHidesSecrets pins that a rejected line never echoes
// the secret, since errors end up in logs.
func TestParseCredentialsHidesSecrets(t *testing.T) {
	t.Parallel()
	const secret = "SUPERSECRETVALUE"
	for _, in := range []string{
		"AKIDEXAMPLE " + secret + " 1234\n",
		"AKIDEXAMPLE " + secret + "\n",
		"AKIDEXAMPLE " + secret + " 123456789012 x\n",
		"AKIDEXAMPLE s 123456789012\nAKIDEXAMPLE " + secret + " 123456789012\n",
	} {
		_, err := ParseCredentials(strings.NewReader(in))
		if err == nil {
			t.Fatalf("ParseCredentials(%q) succeeded, want an error", in)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseCredentials(%q) error %q contains the secret", in, err)
		}
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	s := Static{DevCredential.AccessKeyID: DevCredential}
	if got, ok := s.Lookup("AKIDEXAMPLE"); !ok || got != DevCredential {
		t.Errorf("Lookup(AKIDEXAMPLE) = %v, %v; want %v, true", got, ok, DevCredential)
	}
	if _, ok := s.Lookup("akidexample"); ok {
		t.Errorf("Lookup(akidexample) found a key; access key ids are case-sensitive")
	}
}
