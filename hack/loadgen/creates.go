package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
)

// Kinds of failed creates, counted in Result.Errors.
const (
	ErrCreate      = "create-failed" // the API server refused or failed the create
	ErrNotInjected = "not-injected"  // a pod that must be injected came back without the sidecar
	ErrInjected    = "injected"      // a pod that must be left alone came back injected
)

// maxCreatesInFlight bounds the creates a run has outstanding; when the
// API server falls that far behind, the next create waits, and the wait
// counts in its latency.
const maxCreatesInFlight = 256

// CreateOptions describe a run of pod creates through the API server.
type CreateOptions struct {
	// Client creates the pods; its rate limiter must allow Rate.
	Client kubernetes.Interface
	// Pod is created again and again in its namespace; give it a
	// generateName.
	Pod *corev1.Pod
	// WantInjected says whether every pod must come back injected (its
	// namespace opted in) or unchanged.
	WantInjected bool
	// Rate is the number of creates started per second.
	Rate float64
	// Duration is how long creates are started for.
	Duration time.Duration
}

// RunCreates creates opts.Pod opts.Rate times per second for
// opts.Duration as server-side dry runs (dryRun=All: admission, webhooks
// included, runs in full; nothing is stored, so etcd and the node add no
// noise). It is an open loop: each create starts at its scheduled time in a
// goroutine of its own, and its latency counts from that time to the API
// server's answer. Only invalid options are an error; failed and wrong
// creates are counted in the result.
func RunCreates(ctx context.Context, opts CreateOptions) (*Result, error) {
	if opts.Client == nil || opts.Pod == nil || opts.Rate <= 0 || opts.Duration <= 0 {
		return nil, fmt.Errorf("create options: client %t, pod %t, rate %g, duration %s: all are needed",
			opts.Client != nil, opts.Pod != nil, opts.Rate, opts.Duration)
	}
	pods := opts.Client.CoreV1().Pods(opts.Pod.Namespace)
	interval := time.Duration(float64(time.Second) / opts.Rate)
	n := int(opts.Rate * opts.Duration.Seconds())
	rec := newRecorder(time.Now())
	var mu sync.Mutex
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, maxCreatesInFlight)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		due := rec.start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				continue
			case <-timer.C:
			}
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Go(func() {
			defer func() { <-inFlight }()
			created, err := pods.Create(ctx, opts.Pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			err = checkCreated(created, err, opts.WantInjected)
			mu.Lock()
			defer mu.Unlock()
			rec.done(due, time.Now(), err)
		})
	}
	wg.Wait()
	res := merge([]*recorder{rec}, time.Since(rec.start))
	res.Rate, res.Connections, res.Duration = opts.Rate, 0, opts.Duration
	return res, nil
}

// checkCreated turns a create's outcome into nil or a *SendError.
func checkCreated(pod *corev1.Pod, err error, wantInjected bool) error {
	if err != nil {
		return &SendError{Kind: ErrCreate, Err: fmt.Errorf("%s: %w", apierrors.ReasonForError(err), err)}
	}
	_, injected := pod.Annotations[config.AnnotationStatus]
	switch {
	case wantInjected && !injected:
		return &SendError{Kind: ErrNotInjected, Err: errors.New("the created pod has no " + config.AnnotationStatus + " annotation")}
	case !wantInjected && injected:
		return &SendError{Kind: ErrInjected, Err: fmt.Errorf("the created pod was injected: containers %v", containerNames(pod))}
	}
	return nil
}

// containerNames lists a pod's init containers and containers.
func containerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		names = append(names, c.Name)
	}
	return names
}
