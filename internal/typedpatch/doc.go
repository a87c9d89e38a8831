// Package typedpatch turns a change made to a typed Kubernetes object into a
// JSON patch of the document the object was decoded from, with jsonpatch, so
// that the webhook and the CLI never write patch operations themselves.
//
// The patch keeps everything the document holds that the API types drop
// (unknown fields, empty ones the encoding leaves out), and its operations
// come in a deterministic order: the same change always gives the same bytes.
package typedpatch
