package dataformat

import (
	"bytes"
	"io"
	"strconv"
	"testing"
)

// benchRecords are typical CopyActivity rows: short fields, a few with
// characters to escape.
func benchRecords() [][]string {
	records := make([][]string, 10000)
	for i := range records {
		records[i] = []string{
			strconv.Itoa(i), "customer-" + strconv.Itoa(i*7919), "2014-02-19T19:59:45",
			"Smith, John", strconv.FormatFloat(float64(i)*1.25, 'f', 2, 64), "a note without anything special in it",
		}
	}
	return records
}

func BenchmarkCSVRead(b *testing.B) {
	var buf bytes.Buffer
	w, err := csv.NewWriter(&buf)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range benchRecords() {
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := csv.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkCSVWrite(b *testing.B) {
	records := benchRecords()
	var n int64
	counter := countWriter{&n}
	w, err := csv.NewWriter(counter)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range records {
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		w, err := csv.NewWriter(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range records {
			if err := w.Write(rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter struct{ n *int64 }

func (c countWriter) Write(p []byte) (int, error) {
	*c.n += int64(len(p))
	return len(p), nil
}
