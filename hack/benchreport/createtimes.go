package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// admissionTimes are the time the API server spent calling admission
// webhooks and the time the webhook spent handling reviews, as their own
// metrics count them (histogram sums and counts, since they started).
type admissionTimes struct {
	callSeconds, calls     float64
	handleSeconds, handled float64
}

// readAdmissionTimes reads the API server's
// apiserver_admission_webhook_admission_duration_seconds (from sending the
// review to the patch applied) and the webhook's
// controller_runtime_webhook_latency_seconds (its handler).
func readAdmissionTimes(ctx context.Context, api kubernetes.Interface, webhookMetricsURL string) (admissionTimes, error) {
	body, err := api.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return admissionTimes{}, fmt.Errorf("read the API server's metrics: %w", err)
	}
	server, err := localcluster.ParseSamples(body)
	if err != nil {
		return admissionTimes{}, fmt.Errorf("the API server's metrics: %w", err)
	}
	webhook, err := localcluster.Scrape(ctx, webhookMetricsURL)
	if err != nil {
		return admissionTimes{}, fmt.Errorf("the webhook's metrics: %w", err)
	}
	const call, handle = "apiserver_admission_webhook_admission_duration_seconds", "controller_runtime_webhook_latency_seconds"
	return admissionTimes{
		callSeconds: server.Sum(call + "_sum"), calls: server.Sum(call + "_count"),
		handleSeconds: webhook.Sum(handle + "_sum"), handled: webhook.Sum(handle + "_count"),
	}, nil
}

// since describes the admissions between an earlier reading and this one:
// the mean of each time.
func (a admissionTimes) since(earlier admissionTimes) string {
	mean := func(seconds, n float64) string {
		if n <= 0 {
			return "—"
		}
		return loadgen.FormatDuration(time.Duration(seconds / n * float64(time.Second)))
	}
	calls := a.calls - earlier.calls
	return fmt.Sprintf("API server's call %s, of which the webhook's handler %s; %.0f calls",
		mean(a.callSeconds-earlier.callSeconds, calls), mean(a.handleSeconds-earlier.handleSeconds, a.handled-earlier.handled), calls)
}
