package dataformat

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func gzipped(t *testing.T, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		zw := gzip.NewWriter(&buf)
		if _, err := io.WriteString(zw, p); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestDecompressor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		compression string
		input       []byte
		want        string
	}{
		{"none", "none", []byte("a,b\n"), "a,b\n"},
		{"unset is none", "", []byte("\x1f\x8b stays as it is"), "\x1f\x8b stays as it is"},
		{"gzip", "gzip", gzipped(t, "a,b\nc,d\n"), "a,b\nc,d\n"},
		{"gzip members concatenated", "gzip", gzipped(t, "a,b\n", "c,d\n"), "a,b\nc,d\n"},
		{"gzip of nothing", "gzip", gzipped(t, ""), ""},
		{"empty object said to be gzip", "gzip", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc, err := NewDecompressor(bytes.NewReader(tc.input), tc.compression)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecompressorErrors(t *testing.T) {
	t.Parallel()
	whole := gzipped(t, strings.Repeat("a,b\n", 1000))
	if _, err := NewDecompressor(strings.NewReader("a,b\n"), "gzip"); err == nil ||
		!strings.Contains(err.Error(), "is the data compressed?") {
		t.Errorf("plain data as gzip: NewDecompressor error = %v", err)
	}
	rc, err := NewDecompressor(bytes.NewReader(whole[:len(whole)-5]), "gzip")
	if err != nil {
		t.Fatal(err)
	}
	// A truncated stream fails the Reader on top, naming the record.
	rd, err := csv.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = rd.Read()
	}
	var re *RecordError
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &re) {
		t.Errorf("reading truncated gzip: error = %v, want a RecordError wrapping io.ErrUnexpectedEOF", err)
	}
	corrupt := bytes.Clone(whole)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC
	rc, err = NewDecompressor(bytes.NewReader(corrupt), "gzip")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("corrupt gzip: ReadAll error = %v, want %v", err, gzip.ErrChecksum)
	}
}

func TestCompressionValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		compression string
		want        string
		unsupported bool
	}{
		{"snappy", "compression snappy", true},
		{"GZIP", `compression "GZIP" is not one of none, gzip`, false},
		{"bzip2", `compression "bzip2"`, false},
	}
	for _, tc := range tests {
		_, derr := NewDecompressor(strings.NewReader(""), tc.compression)
		_, cerr := NewCompressor(io.Discard, tc.compression)
		for _, err := range []error{derr, cerr} {
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrUnsupported) != tc.unsupported {
				t.Errorf("compression %q: error = %v, want %q (unsupported %v)", tc.compression, err, tc.want, tc.unsupported)
			}
		}
	}
}

// TestCompressedRoundTrip: records through a Writer and a compressor come
// back through a decompressor and a Reader, and gzip output is gzip.
func TestCompressedRoundTrip(t *testing.T) {
	t.Parallel()
	for _, compression := range []string{"", "none", "gzip"} {
		var file bytes.Buffer
		wc, err := NewCompressor(&file, compression)
		if err != nil {
			t.Fatal(err)
		}
		w, err := tsv.NewWriter(wc)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range nasty {
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := errors.Join(w.Flush(), wc.Close()); err != nil {
			t.Fatal(err)
		}
		if isGzip := bytes.HasPrefix(file.Bytes(), []byte{0x1f, 0x8b}); isGzip != (compression == "gzip") {
			t.Errorf("compression %q: output starts % x", compression, file.Bytes()[:2])
		}
		rc, err := NewDecompressor(&file, compression)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, tsv, rc)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(nasty, got); diff != "" {
			t.Errorf("compression %q: round trip mismatch (-wrote +read):\n%s", compression, diff)
		}
	}
}
