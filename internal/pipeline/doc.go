// Package pipeline is culvert's domain vocabulary: pipeline objects and their
// fields, parameters, definitions, pipeline states, object spheres, and the
// rules that judge a definition.
//
// It is the pure core. It imports only the standard library and the pure
// expression package (internal/expr), never a store,
// an HTTP package or the wire layer, so every rule here can be tested as a
// plain function of values. The types carry JSON tags with the Data Pipeline
// wire names because a definition is stored and served as one JSON document
// in exactly the shape GetPipelineDefinition returns; encoding it once on put
// is what keeps reads cheap.
//
// [Evaluator] evaluates #{…} expressions in the context of a definition's
// objects (parameters, inherited fields, references, and runtime fields
// supplied through a [RuntimeFunc]); the API and, later, the scheduler use
// it.
//
// Validation is reached through [Validate]: the structural checks (ids,
// names, references, runtime-field keys, sizes), the object-type catalog
// ([CheckTypes], on the effective view that [Resolver] computes), and the
// rules across fields and objects (rules*.go), including parsing every
// expression with the expr package.
package pipeline
