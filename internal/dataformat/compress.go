package dataformat

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
)

// The values of an S3DataNode's compression field (spec §3.3, "Data
// nodes"); "" means none.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
)

// NewDecompressor returns a reader of r's data decompressed as an
// S3DataNode's compression field says. Closing it does not close r.
//
// For "gzip", concatenated gzip members read as one stream, as gzip -d
// does, and an empty r reads as empty data. Corrupt or truncated gzip data
// gives an error from the first Read or from NewDecompressor itself.
// "snappy" gives an error wrapping [ErrUnsupported]; any other value but
// "none" and "", an error naming it.
func NewDecompressor(r io.Reader, compression string) (io.ReadCloser, error) {
	if err := checkCompression(compression); err != nil {
		return nil, err
	}
	if compression != CompressionGzip {
		return io.NopCloser(r), nil
	}
	br := bufio.NewReader(r)
	if _, err := br.Peek(1); err != nil {
		if err == io.EOF {
			// An empty object, such as one written by a tool that skips
			// the gzip header for zero records: no records rather than a
			// failed copy.
			return io.NopCloser(br), nil
		}
		return nil, fmt.Errorf("gzip: %w", err)
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w (the data node says compression gzip; is the data compressed?)", err)
	}
	return zr, nil
}

// NewCompressor returns a writer that compresses what is written to it
// into w as an S3DataNode's compression field says. Close it to finish
// the compressed stream; that does not close w. It returns the same errors
// for compression as [NewDecompressor].
func NewCompressor(w io.Writer, compression string) (io.WriteCloser, error) {
	if err := checkCompression(compression); err != nil {
		return nil, err
	}
	if compression != CompressionGzip {
		return nopWriteCloser{w}, nil
	}
	return gzip.NewWriter(w), nil
}

func checkCompression(c string) error {
	switch c {
	case "", CompressionNone, CompressionGzip:
		return nil
	case "snappy":
		return fmt.Errorf("compression snappy: %w (the Go standard library has no snappy; use gzip or none)", ErrUnsupported)
	default:
		return fmt.Errorf("compression %q is not one of none, gzip", c)
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
