// Package dataformat reads and writes the records of the Data Pipeline data
// formats (spec §3.3 "Data formats") for culvert's task runner, which
// copies records between S3 files and SQL tables (CopyActivity).
//
// [Parse] turns a data-format object's fields, as a task object carries
// them, into a [Format]: CSV, TSV, Custom or RegEx. A Format makes a
// [Reader], which splits a stream into records of string fields, and a
// [Writer], which does the reverse; what a Writer writes, a Reader of the
// same Format reads back unchanged, whatever the fields hold, as long as
// the format can escape them. [NewDecompressor] and [NewCompressor] deal
// with an S3DataNode's compression field ("none" or "gzip").
//
// The rules AWS documents are followed (CopyActivity's CSV: comma
// separated, records never quoted, backslash escapes, newline ends a
// record); the ones it leaves open are chosen in
// docs/assumptions/0016-data-formats.md and pinned by the tests here.
//
// The package is pure: it imports only the standard library (deps_test.go
// enforces this), and knows nothing about S3, SQL or pipelines beyond a
// data-format object's fields.
package dataformat
