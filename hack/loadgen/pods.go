package loadgen

import "github.com/gopherscope/gopherscope/internal/testfixture"

// The pods loadgen sends are the test fixtures', the ones the Go benchmarks
// of package webhook measure too.
var (
	// TypicalPod is testfixture.TypicalPod.
	TypicalPod = testfixture.TypicalPod
	// LargePod is testfixture.LargePod.
	LargePod = testfixture.LargePod
	// InjectedPod is testfixture.InjectedPod.
	InjectedPod = testfixture.InjectedPod
)
