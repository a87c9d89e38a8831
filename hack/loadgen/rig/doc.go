// Package rig sets up what `make bench` and `make soak` measure: the local
// control plane (test/localcluster) with an opted-in, an opted-out and an
// unlabelled namespace, bin/webhook serving a certificate from a CA of our
// own (so rotation can be driven from here) and, on request, registered
// with the API server through the chart; the demo app and bin/sidecar as
// local processes, and /proc readings of their memory and CPU. It is
// benchmark support, not part of the product.
package rig
