package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/diagnostics/api"
)

const topHelp = `Show the Go runtime of every injected pod, one line per pod, like
kubectl top: goroutines, heap in use, GC cycles per second, the 99th
percentile GC pause, bytes allocated per second and active findings, as
each pod's sidecar last sampled them. It reads them through the diagnostics
API (RBAC: get on pods/stats in diagnostics.gopherscope.io), many pods at
once; a pod that does not answer is shown with the reason, never left out.

Usage:
  gopherscope top [-n NAMESPACE | -A] [-l SELECTOR] [--sort KEY] [--watch] [flags]

A figure the app does not expose is shown as "-", never as 0. Connection
flags are kubectl's (--kubeconfig, --context, --as, ...).

Examples:
  # The injected pods of namespace shop.
  gopherscope top -n shop

  # Every namespace, most goroutines first, redrawn every 5 seconds.
  gopherscope top -A --sort goroutines --watch

  # As kubectl plugin (installed as kubectl-gopherscope on the PATH).
  kubectl gopherscope top -n shop --sort heap
`

// The default fan-out of top: how many pods are asked at once, and how long
// one may take.
const (
	topConcurrency = 16
	topPodTimeout  = 5 * time.Second
)

// topOptions are the flags of `gopherscope top`.
type topOptions struct {
	kube          *genericclioptions.ConfigFlags
	allNamespaces bool
	selector      string
	sort          string
	watch         bool
	interval      time.Duration
	podTimeout    time.Duration
	concurrency   int
}

// topCommand is `gopherscope top`.
func topCommand() command {
	return command{
		name:      "top",
		summary:   "Show goroutines, heap, GC and findings of injected pods (diagnostics API).",
		help:      topHelp,
		exitCodes: diagExitCodesHelp,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, Streams) error {
			o := topOptions{concurrency: topConcurrency}
			fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "the injected pods of every namespace (adds a NAMESPACE column)")
			fs.StringVarP(&o.selector, "selector", "l", "", "only the injected pods this label selector matches")
			fs.StringVar(&o.sort, "sort", "", "sort by goroutines, heap, gc or alloc, largest first (default: by name)")
			fs.BoolVarP(&o.watch, "watch", "w", false, "redraw every --interval until interrupted (Ctrl-C)")
			fs.DurationVar(&o.interval, "interval", 5*time.Second, "with --watch: the time between two redraws")
			fs.DurationVar(&o.podTimeout, "pod-timeout", topPodTimeout, "how long one pod may take to answer before it is shown as <timeout>")
			o.kube = kubeFlags(fs)
			return func(ctx context.Context, args []string, s Streams) error { return runTop(ctx, &o, args, s) }
		},
	}
}

// runTop prints the table once, or every interval with --watch.
func runTop(ctx context.Context, o *topOptions, args []string, s Streams) error {
	switch {
	case len(args) > 0:
		return usageError{fmt.Errorf("unexpected arguments %q (top takes no POD: use -l SELECTOR)", args)}
	case !slices.Contains(append(sortKeys(), ""), o.sort):
		return usageError{fmt.Errorf("--sort %q: want one of %v", o.sort, sortKeys())}
	case o.interval < time.Second:
		return usageError{fmt.Errorf("--interval %s: want 1s or more", o.interval)}
	case o.podTimeout <= 0:
		return usageError{fmt.Errorf("--pod-timeout %s: want more than 0", o.podTimeout)}
	case o.allNamespaces && o.kube.Namespace != nil && *o.kube.Namespace != "":
		return usageError{errors.New("give -n NAMESPACE or -A, not both")}
	}
	client, err := newDiagClient(o.kube)
	if err != nil {
		return err
	}
	namespace := client.namespace
	if o.allNamespaces {
		namespace = metav1.NamespaceAll
	}
	if !o.watch {
		rows, err := topRows(ctx, client, namespace, o)
		if err != nil {
			return err
		}
		return writeTop(s, rows, o.allNamespaces)
	}
	redraw := clearScreen(s.Out)
	for {
		rows, err := topRows(ctx, client, namespace, o)
		if ctx.Err() != nil {
			return nil // interrupted: the last table stays on the screen
		}
		var b bytes.Buffer
		if err != nil {
			_, _ = fmt.Fprintf(&b, "%s  %v\n", time.Now().Format(time.TimeOnly), err)
		} else {
			_, _ = fmt.Fprintf(&b, "%s  %d injected pods\n", time.Now().Format(time.TimeOnly), len(rows))
			if err := writeTop(Streams{Out: &b, ErrOut: &b}, rows, o.allNamespaces); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(s.Out, redraw+b.String()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.interval):
		}
	}
}

// clearScreen is what moves a terminal's cursor home and clears it; to a
// file or pipe, tables follow one another after an empty line.
func clearScreen(w io.Writer) string {
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			return "\033[H\033[2J"
		}
	}
	return "\n"
}

// topRows lists the injected pods and asks each for its stats, sorted.
func topRows(ctx context.Context, client *diagClient, namespace string, o *topOptions) ([]topRow, error) {
	selector := config.LabelSidecarVersion
	if o.selector != "" {
		selector += "," + o.selector
	}
	list, err := client.pods.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		where := "namespace " + namespace
		if namespace == metav1.NamespaceAll {
			where = "all namespaces"
		}
		return nil, fmt.Errorf("list the injected pods (label %s) in %s: %w", config.LabelSidecarVersion, where, err)
	}
	var pods []*corev1.Pod
	for i := range list.Items {
		if hasSidecar(&list.Items[i]) {
			pods = append(pods, &list.Items[i])
		}
	}
	rows := fetchStats(ctx, client, pods, o.concurrency, o.podTimeout)
	sortRows(rows, o.sort)
	return rows, nil
}

// hasSidecar says whether the pod carries the sidecar container, as an
// init container (a native sidecar) or an ordinary one.
func hasSidecar(pod *corev1.Pod) bool {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == config.SidecarContainerName {
				return true
			}
		}
	}
	return false
}

// topRow is one pod's line: its stats, or why there are none.
type topRow struct {
	namespace, name string
	stats           *api.StatsResponse
	// problem is why stats is nil: "forbidden", "timeout", ...
	problem string
	// err is the error behind problem, if any.
	err error
}

// fetchStats asks each running pod for its stats, at most concurrency at a
// time, each within timeout. Every pod gets a row.
func fetchStats(ctx context.Context, client *diagClient, pods []*corev1.Pod, concurrency int, timeout time.Duration) []topRow {
	rows := make([]topRow, len(pods))
	slots := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, pod := range pods {
		rows[i] = topRow{namespace: pod.Namespace, name: pod.Name}
		if pod.Status.Phase != corev1.PodRunning {
			rows[i].problem = phase(pod)
			continue
		}
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				rows[i].problem, rows[i].err = "interrupted", ctx.Err()
				return
			}
			defer func() { <-slots }()
			rows[i].stats, rows[i].problem, rows[i].err = fetchOne(ctx, client, pod, timeout)
		})
	}
	wg.Wait()
	return rows
}

// fetchOne reads one pod's stats.
func fetchOne(ctx context.Context, client *diagClient, pod *corev1.Pod, timeout time.Duration) (*api.StatsResponse, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	result := client.get(pod.Namespace, pod.Name, api.Stats, nil).Do(ctx)
	body, err := result.Raw()
	if err != nil {
		err = result.Error() // with the Status of a refusal decoded
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, "timeout", fmt.Errorf("%s/%s: no answer within %s (--pod-timeout)", pod.Namespace, pod.Name, timeout)
		}
		return nil, problemOf(err), explain(err, pod.Namespace, pod.Name, api.Stats)
	}
	var stats api.StatsResponse
	if err := json.Unmarshal(body, &stats); err != nil {
		return nil, "bad answer", fmt.Errorf("%s/%s: the stats do not decode: %w", pod.Namespace, pod.Name, err)
	}
	return &stats, "", nil
}

// phase names a pod that is not running, for its row.
func phase(pod *corev1.Pod) string {
	if pod.Status.Phase == "" {
		return "not scheduled"
	}
	return string(pod.Status.Phase)
}
