// Package demo is the logic of `make demo` (see test/demo): it tells the
// product's story on the embedded local control plane, step by step, with
// test/localcluster doing the work.
package demo
