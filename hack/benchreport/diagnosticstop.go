package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// topStatsConcurrency is how many pods' stats are asked at once while
// waiting for every pod's first sample (gopherscope top's own fan-out).
const topStatsConcurrency = 16

// measureTop runs opts.TopPods injected demo apps (one Deployment), waits
// for each one's first sample, then times `gopherscope top` over them in
// turn with its floor, `gopherscope top` over the one pod of the profiles'
// namespace (the command's start, kubeconfig, pod list and one request).
func (n *diagNode) measureTop(ctx context.Context, opts *options) ([]row, error) {
	pods, err := n.runDemo(ctx, "top", int32(opts.TopPods), 10*time.Minute) //nolint:gosec // a flag, validated positive
	if err != nil {
		return nil, err
	}
	cfg := n.cluster.Config()
	cfg.QPS, cfg.Burst = 100, topStatsConcurrency // no client-side throttling of the waits' rounds
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for the diagnostics API: %w", err)
	}
	start := time.Now()
	if err := n.waitAllSampled(ctx, client, pods); err != nil {
		return nil, err
	}
	n.logf("diagnostics API: all %d pods have a sample, %s after Ready", len(pods), time.Since(start).Round(time.Second))

	bin := filepath.Join(opts.RepoRoot, "bin", "gopherscope")
	run := func(ns string) (time.Duration, int, error) {
		cmd := exec.CommandContext(ctx, bin, "top", "-n", ns, "--kubeconfig", n.cluster.Kubeconfig()) //nolint:gosec // our own binary
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		t0 := time.Now()
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil {
			return d, 0, fmt.Errorf("gopherscope top -n %s: %w\n%s", ns, err, stderr.String())
		}
		return d, answeredRows(stdout.Bytes()), nil
	}
	var top, floor []time.Duration
	answered := len(pods)
	err = takeTurns(opts.TopRuns, 2, func(which, round int) error {
		if which == 0 {
			d, _, err := run("bench-profiles")
			floor = append(floor, d)
			return err
		}
		d, rows, err := run("bench-top")
		top, answered = append(top, d), min(answered, rows)
		n.logf("diagnostics API: gopherscope top, run %d: %s, %d of %d pods answered", round+1, roundMs(d), rows, len(pods))
		return err
	})
	if err != nil {
		return nil, err
	}
	topMax := slices.Max(top)
	return []row{{
		group: diagGroup,
		figure: fmt.Sprintf("`gopherscope top` over %d injected pods (a process each run, as a user runs it): median / max of %d, and the fewest pods answered in a run (floor: top over a namespace of 1 pod)",
			len(pods), len(top)),
		value: fmt.Sprintf("%s / %s; %d of %d answered", roundMs(nearestRank(top, 0.5)), roundMs(topMax), answered, len(pods)),
		floor: fmt.Sprintf("%s / %s", roundMs(nearestRank(floor, 0.5)), roundMs(slices.Max(floor))),
		ratio: "max " + signed(topMax-slices.Max(floor)), target: "< " + topTarget.String() + ", every pod answered",
		verdict: judge(topMax < topTarget && answered == len(pods)),
	}}, nil
}

// waitAllSampled waits up to 3 minutes for every pod's stats to hold a
// sample of its app, asking topStatsConcurrency pods at a time.
func (n *diagNode) waitAllSampled(ctx context.Context, client kubernetes.Interface, pods []corev1.Pod) error {
	rc := client.CoreV1().RESTClient()
	pending := slices.Clone(pods)
	var last string
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		slots := make(chan struct{}, topStatsConcurrency)
		var still []corev1.Pod
		for i := range pending {
			wg.Go(func() {
				slots <- struct{}{}
				defer func() { <-slots }()
				if ok, answer := hasSample(ctx, rc, &pending[i]); !ok {
					mu.Lock()
					still, last = append(still, pending[i]), pending[i].Name+": "+answer
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		pending = still
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d pods have no sample through the API server after 3m (last answer %s): %w", len(pending), len(pods), last, err)
	}
	return nil
}

// answeredRows counts the pods in `gopherscope top`'s table that answered
// with a sample: the lines after the header without a "<problem>" cell.
func answeredRows(out []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	header := true
	for sc.Scan() {
		line := sc.Text()
		if header {
			header = !strings.HasPrefix(line, "NAME")
			continue
		}
		if strings.TrimSpace(line) != "" && !strings.Contains(line, "<") {
			n++
		}
	}
	return n
}
