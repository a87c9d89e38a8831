package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// podReport is check's verdict on one pod.
type podReport struct {
	// Pod is the pod's name.
	Pod string `json:"pod"`
	// Injected says whether the pod carries the sidecar.
	Injected bool `json:"injected"`
	// Reason is one word from a fixed set (the injector's reasons and check's).
	Reason string `json:"reason"`
	// Message explains the reason.
	Message string `json:"message"`
	// Hint is the one command or change that fixes it, if any.
	Hint string `json:"hint,omitempty"`
	// SidecarVersion is the pod's gopherscope.io/sidecar-version label.
	SidecarVersion string `json:"sidecarVersion,omitempty"`
	// Warnings are the injector's warnings about the pod (unknown keys among them).
	Warnings []string `json:"warnings,omitempty"`
}

// checker checks the pods of one namespace.
type checker struct {
	client    kubernetes.Interface
	inst      *installation
	namespace string
	// ns is what the injector needs of the namespace.
	ns injector.Namespace
}

// loadNamespace reads the namespace's labels and LimitRanges.
func (c *checker) loadNamespace(ctx context.Context) error {
	ns, err := c.client.CoreV1().Namespaces().Get(ctx, c.namespace, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get namespace %s (its labels select pods for injection): %w", c.namespace, err)
	}
	c.ns = injector.Namespace{Name: c.namespace, Labels: ns.Labels}
	ranges, err := c.client.CoreV1().LimitRanges(c.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.inst.notes = append(c.inst.notes, fmt.Sprintf("cannot read the LimitRanges of %s: %v", c.namespace, err))
		return nil
	}
	c.ns.LimitRanges = ranges.Items
	return nil
}

// check explains one pod: the injector's own decision on it (the rules the
// webhook applies), then, for a pod the rules select that has no sidecar,
// what the cluster says about the webhook.
func (c *checker) check(ctx context.Context, pod *corev1.Pod) podReport {
	o := c.owners(ctx, pod)
	_, warnings, d := injector.Inject(pod, c.ns, c.inst.cfg)
	for _, w := range injector.UnknownKeyWarnings(pod.Labels, pod.Annotations) {
		if !slices.Contains(warnings, w) {
			warnings = append(warnings, w)
		}
	}
	r := podReport{Pod: pod.Name, Reason: string(d.Reason), Message: d.Message, Warnings: warnings,
		SidecarVersion: pod.Labels[config.LabelSidecarVersion]}
	switch {
	case d.Reason == injector.ReasonAlreadyInjected:
		r.Injected = true
		r.Reason, r.Message = string(injector.ReasonInjected), "the pod carries the sidecar"
		if want := c.inst.sidecarVersion(pod); r.SidecarVersion != want {
			r.Reason = reasonSidecarOutdated
			r.Message = fmt.Sprintf("the pod's sidecar is version %s, the webhook injects %s", orNone(r.SidecarVersion), want)
		}
	case d.Reason == injector.ReasonNotOptedIn && pod.Annotations[config.KeyInject] == config.InjectEnabled:
		r.Reason = reasonAnnotationNotLabel
		r.Message = fmt.Sprintf("%s: %s is an annotation; the webhook selects pods by their labels and their namespace's, so the pod never reached it",
			config.KeyInject, config.InjectEnabled)
	case d.Action == injector.ActionInject:
		r.Reason, r.Message = c.whyMissed(ctx, pod, o)
	}
	r.Hint = c.hint(r.Reason, o)
	return r
}

// whyMissed explains a pod the rules select that has no sidecar.
func (c *checker) whyMissed(ctx context.Context, pod *corev1.Pod, o owners) (string, string) {
	if c.inst.webhookConfig == "" {
		return reasonWebhookNotInstalled, "the rules select the pod, but " + strings.Join(c.inst.notes, "; ")
	}
	findings := c.auditorFindings(ctx, pod, o)
	injected, err := c.dryRun(ctx, pod, o)
	switch {
	case err == nil && !injected:
		return reasonWebhookUnreachable, fmt.Sprintf("a dry-run create of the pod's %s comes back without the sidecar: the API server does not reach %s%s%s",
			o.templateSource(), c.inst.where(), c.endpointsText(), findings)
	case err != nil && strings.Contains(err.Error(), "failed calling webhook"):
		// failurePolicy Fail: the API server says so itself.
		return reasonWebhookUnreachable, fmt.Sprintf("a dry-run create of the pod's %s is refused: %v%s", o.templateSource(), err, findings)
	case err != nil && c.inst.service != "" && c.inst.readyEndpoints == 0:
		return reasonWebhookUnreachable, fmt.Sprintf("%s has no ready endpoints (the dry-run create failed: %v)%s", c.inst.where(), err, findings)
	}
	dryRun := fmt.Sprintf("a dry-run create of its %s is injected now", o.templateSource())
	if err != nil {
		dryRun = fmt.Sprintf("the dry-run create of its %s failed: %v", o.templateSource(), err)
	}
	created := pod.CreationTimestamp.Time
	if !c.inst.readySince.IsZero() && created.Before(c.inst.readySince) {
		return reasonCreatedBeforeWebhookReady, fmt.Sprintf("the pod was created at %s, before the webhook was ready (%s); %s%s",
			created.UTC().Format(time.RFC3339), c.inst.readySince.UTC().Format(time.RFC3339), dryRun, findings)
	}
	return reasonCreatedBeforeOptIn, fmt.Sprintf("the pod was created at %s, before it or its namespace opted in, or while the webhook was unavailable; %s%s",
		created.UTC().Format(time.RFC3339), dryRun, findings)
}

// endpointsText says how many ready endpoints the webhook's Service has.
func (c *checker) endpointsText() string {
	if c.inst.service == "" {
		return ""
	}
	return fmt.Sprintf(" (ready endpoints of the Service: %d)", c.inst.readyEndpoints)
}

// dryRun creates the pod's template (from its owner, else the pod itself
// stripped of what the API server sets) with dryRun=All, as the user, and
// reports whether the webhook injected it.
func (c *checker) dryRun(ctx context.Context, pod *corev1.Pod, o owners) (bool, error) {
	probe := o.template
	if probe == nil {
		probe = &corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: *pod.Spec.DeepCopy()}
		probe.Spec.NodeName = ""
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: pod.Name + "-", Namespace: c.namespace,
			Labels: probe.Labels, Annotations: probe.Annotations, OwnerReferences: pod.OwnerReferences,
		},
		Spec: probe.Spec,
	}
	created, err := c.client.CoreV1().Pods(c.namespace).Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return false, err
	}
	_, hasStatus := created.Annotations[config.AnnotationStatus]
	return hasStatus, nil
}

// auditorFindings quotes the auditor's Events about the pod or its owners,
// as "; the auditor reported REASON: NOTE", or "".
func (c *checker) auditorFindings(ctx context.Context, pod *corev1.Pod, o owners) string {
	events, err := c.client.EventsV1().Events(c.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	var out strings.Builder
	for _, e := range events.Items {
		if e.Reason != config.EventReasonSidecarMissing && e.Reason != config.EventReasonWebhookUnreachable {
			continue
		}
		if (e.Related != nil && e.Related.Name == pod.Name) || e.Regarding.Name == pod.Name || o.has(e.Regarding.Kind, e.Regarding.Name) {
			fmt.Fprintf(&out, "; the auditor reported %s: %s", e.Reason, e.Note)
		}
	}
	return out.String()
}

func orNone(s string) string {
	if s == "" {
		return "unknown (no " + config.LabelSidecarVersion + " label)"
	}
	return s
}
