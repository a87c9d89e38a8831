package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/pprof/profile"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// diagRequestTimeout bounds one request: the API server's own timeout for
// aggregated requests is 60 s.
const diagRequestTimeout = 70 * time.Second

// heapPace spaces the heap profiles through the API server so that the
// sidecar's dump rate limit never refuses one.
const heapPace = time.Minute / diagnostics.DefaultDumpsPerMinute

// measureProfiles runs one demo app keeping a live heap of liveHeap and
// times heap profiles, then CPU profiles while it burns a core, each
// through the API server as the admin (the floor: the app's own pprof at
// the pod's address, asked in turn with it).
func (n *diagNode) measureProfiles(ctx context.Context, opts *options) ([]row, error) {
	pods, err := n.runDemo(ctx, "profiles", 1, 3*time.Minute)
	if err != nil {
		return nil, err
	}
	pod := &pods[0]
	cfg := n.cluster.Config()
	cfg.Timeout = diagRequestTimeout
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for the diagnostics API: %w", err)
	}
	rc := client.CoreV1().RESTClient()
	if err := waitStats(ctx, rc, pod); err != nil {
		return nil, err
	}
	if _, err := localcluster.Do(ctx, http.MethodPost, localcluster.PodURL(pod, demoAppPort, "/alloc?bytes="+liveHeap+"&keep=true")); err != nil {
		return nil, fmt.Errorf("keep %s live in the demo app: %w", liveHeap, err)
	}
	direct := &http.Client{Timeout: diagRequestTimeout}
	// A heap profile is as of the last GC: one now, so that every profile
	// below holds the whole live heap.
	if _, err := localcluster.DoWith(ctx, direct, http.MethodGet, localcluster.PodURL(pod, demoDebugPort, "/debug/pprof/heap?gc=1")); err != nil {
		return nil, fmt.Errorf("run a GC in the demo app: %w", err)
	}

	var heap, heapFloor []time.Duration
	var inuse int64
	err = takeTurns(opts.HeapRequests, 2, func(which, _ int) error {
		if which == 0 {
			d, _, err := timeProfile(ctx, func(ctx context.Context) ([]byte, error) {
				return localcluster.DoWith(ctx, direct, http.MethodGet, localcluster.PodURL(pod, demoDebugPort, "/debug/pprof/heap"))
			})
			heapFloor = append(heapFloor, d)
			return err
		}
		next := time.Now().Add(heapPace)
		d, p, err := timeProfile(ctx, func(ctx context.Context) ([]byte, error) {
			return rc.Get().AbsPath(api.PodPath(pod.Namespace, pod.Name, api.Heap, nil)).DoRaw(ctx)
		})
		if err != nil {
			return fmt.Errorf("heap profile through the API server: %w", err)
		}
		heap, inuse = append(heap, d), sampleTotal(p, "inuse_space")
		return sleep(ctx, time.Until(next))
	})
	if err != nil {
		return nil, err
	}
	n.logf("diagnostics API: heap profiles through the API server %v; straight from the app %v", heap, heapFloor)

	if _, err := localcluster.Do(ctx, http.MethodPost, localcluster.PodURL(pod, demoAppPort, "/burn?goroutines=1")); err != nil {
		return nil, fmt.Errorf("make the demo app burn CPU: %w", err)
	}
	seconds := time.Duration(opts.CPUSeconds) * time.Second
	query := url.Values{"seconds": {strconv.Itoa(opts.CPUSeconds)}}
	var cpu, cpuFloor []time.Duration
	err = takeTurns(opts.CPURounds, 2, func(which, _ int) error {
		if which == 0 {
			d, _, err := timeProfile(ctx, func(ctx context.Context) ([]byte, error) {
				return localcluster.DoWith(ctx, direct, http.MethodGet, localcluster.PodURL(pod, demoDebugPort, "/debug/pprof/profile?"+query.Encode()))
			})
			cpuFloor = append(cpuFloor, d-seconds)
			return err
		}
		d, _, err := timeProfile(ctx, func(ctx context.Context) ([]byte, error) {
			return rc.Get().AbsPath(api.PodPath(pod.Namespace, pod.Name, api.Profile, nil)).Param("seconds", query.Get("seconds")).DoRaw(ctx)
		})
		cpu = append(cpu, d-seconds)
		if err != nil {
			return fmt.Errorf("CPU profile through the API server: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := localcluster.Do(ctx, http.MethodDelete, localcluster.PodURL(pod, demoAppPort, "/burn")); err != nil {
		return nil, fmt.Errorf("stop the demo app's burn: %w", err)
	}
	n.logf("diagnostics API: CPU profiles' time beyond %s through the API server %v; straight from the app %v", seconds, cpu, cpuFloor)
	return profileRows(opts, heap, heapFloor, inuse, cpu, cpuFloor), nil
}

// profileRows are the heap and CPU profiles' figures.
func profileRows(opts *options, heap, heapFloor []time.Duration, inuse int64, cpu, cpuFloor []time.Duration) []row {
	heapP95, floorP95 := nearestRank(heap, 0.95), nearestRank(heapFloor, 0.95)
	cpuMax := slices.Max(cpu)
	return []row{{
		group: diagGroup,
		figure: fmt.Sprintf("heap profile through the API server, %s kept live in the demo app (the profile's inuse_space: %.0f MiB): p50 / p95 / max of %d (floor: the app's own pprof at the pod's address)",
			liveHeap, float64(inuse)/(1<<20), len(heap)),
		value: threeQuantiles(heap), floor: threeQuantiles(heapFloor), ratio: "p95 " + signed(heapP95-floorP95),
		target: "p95 < " + heapP95Target.String(), verdict: judge(heapP95 < heapP95Target),
	}, {
		group: diagGroup,
		figure: fmt.Sprintf("CPU profile of %d s through the API server, the app burning a core: time beyond the %d s, p50 / max of %d (floor: the app's own pprof)",
			opts.CPUSeconds, opts.CPUSeconds, len(cpu)),
		value: fmt.Sprintf("%s / %s", signed(nearestRank(cpu, 0.5)), signed(cpuMax)),
		floor: fmt.Sprintf("%s / %s", signed(nearestRank(cpuFloor, 0.5)), signed(slices.Max(cpuFloor))),
		ratio: "max " + signed(cpuMax-slices.Max(cpuFloor)), target: "seconds " + signed(cpuExtraTarget) + " at most",
		verdict: judge(cpuMax < cpuExtraTarget),
	}}
}

// timeProfile times get, which returns a whole profile, and parses it, so
// that only complete, valid profiles are counted.
func timeProfile(ctx context.Context, get func(context.Context) ([]byte, error)) (time.Duration, *profile.Profile, error) {
	start := time.Now()
	body, err := get(ctx)
	d := time.Since(start)
	if err != nil {
		return d, nil, err
	}
	p, err := profile.Parse(bytes.NewReader(body))
	if err != nil {
		return d, nil, fmt.Errorf("the profile (%d bytes) does not parse: %w", len(body), err)
	}
	return d, p, nil
}

// sampleTotal sums a profile's values of one sample type (0 without it).
func sampleTotal(p *profile.Profile, sampleType string) int64 {
	i := slices.IndexFunc(p.SampleType, func(st *profile.ValueType) bool { return st.Type == sampleType })
	if i < 0 {
		return 0
	}
	var total int64
	for _, s := range p.Sample {
		total += s.Value[i]
	}
	return total
}

// waitStats waits up to a minute for the pod's stats, through the API
// server, to hold a sample of the app.
func waitStats(ctx context.Context, rc rest.Interface, pod *corev1.Pod) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		ok, answer := hasSample(ctx, rc, pod)
		last = answer
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("no stats of %s/%s through the API server after 1m (last answer: %s): %w", pod.Namespace, pod.Name, last, err)
	}
	return nil
}

// hasSample asks for a pod's stats once: whether they hold a sample of the
// app, and the answer in short.
func hasSample(ctx context.Context, rc rest.Interface, pod *corev1.Pod) (bool, string) {
	body, err := rc.Get().AbsPath(api.PodPath(pod.Namespace, pod.Name, api.Stats, nil)).DoRaw(ctx)
	if err != nil {
		return false, err.Error()
	}
	var stats api.StatsResponse
	if err := json.Unmarshal(body, &stats); err != nil {
		return false, fmt.Sprintf("%.200s", body)
	}
	return stats.TargetUp && stats.Goroutines != nil, fmt.Sprintf("%.200s", body)
}

// nearestRank is the q quantile of ds by nearest rank (0 for none).
func nearestRank(ds []time.Duration, q float64) time.Duration {
	return loadgen.NearestRank(slices.Sorted(slices.Values(ds)), q)
}

// threeQuantiles prints p50 / p95 / max.
func threeQuantiles(ds []time.Duration) string {
	return fmt.Sprintf("%s / %s / %s", roundMs(nearestRank(ds, 0.5)), roundMs(nearestRank(ds, 0.95)), roundMs(slices.Max(ds)))
}

// roundMs prints d to the millisecond.
func roundMs(d time.Duration) string { return d.Round(time.Millisecond).String() }
