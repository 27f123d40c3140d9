// Package expr implements the Data Pipeline expression language: the #{…}
// expressions that may appear in any string field of a pipeline object, such
// as "s3://bucket/#{format(@scheduledStartTime,'YYYY-MM-dd')}".
//
// It has a lexer, a parser producing an AST ([Node]), a printer that turns an
// AST back into canonical source, and an evaluator. [ParseTemplate] parses a
// whole field value (verbatim text around any number of #{…}); [Parse]
// parses one expression body. Names are resolved through an [Env] that the
// caller implements, so this package knows nothing about objects, instances
// or storage. The function library (§6.2 of the behaviour digest) includes a
// faithful implementation of Joda-Time DateTimeFormat patterns for format.
//
// The package is part of the pure core: it imports only the standard library
// (deps_test.go enforces this) and must never import internal/pipeline, which
// imports it. Tests are table tests next to each file, fuzz tests in
// fuzz_test.go, and a golden file testdata/eval.txt of expressions and their
// values, refreshed with go test ./internal/expr -update.
package expr
