package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
	"github.com/gopherscope/gopherscope/version"
)

// webhookNameSuffix ends the names of the chart's pod webhooks
// (namespace.inject.gopherscope.io, pod.inject.gopherscope.io).
const webhookNameSuffix = ".inject.gopherscope.io"

// installation is what check found of gopherscope in the cluster.
type installation struct {
	// webhookConfig is the MutatingWebhookConfiguration's name, "" if none was found.
	webhookConfig string
	// namespace is the release's namespace.
	namespace string
	// cfg is the injection config from the release's ConfigMap, or the
	// defaults when it could not be read (see notes).
	cfg *config.Config
	// url is where the API server calls an out-of-cluster webhook ("" for a Service).
	url string
	// service is the webhook's Service name ("" for a URL).
	service string
	// readyEndpoints counts the Service's ready endpoints (EndpointSlices).
	readyEndpoints int
	// readySince is when the webhook became ready: the earliest Ready
	// transition of its Deployment's ready pods (zero when unknown or none
	// is ready).
	readySince time.Time
	// notes say what could not be read, and so what check could not tell.
	notes []string
}

// findInstallation reads the webhook configuration, the injection config,
// the Service's endpoints and the webhook pods' readiness. What cannot be
// read (a missing object, no permission) becomes a note, never an error:
// the pods' own labels still explain most outcomes.
func findInstallation(ctx context.Context, client kubernetes.Interface, namespace, release string) *installation {
	inst := &installation{namespace: namespace, cfg: config.Default(version.Version)}
	mwc, note := findWebhookConfig(ctx, client, release)
	if mwc == nil {
		inst.notes = append(inst.notes, note)
		return inst
	}
	inst.webhookConfig = mwc.Name
	for _, w := range mwc.Webhooks {
		if !strings.HasSuffix(w.Name, webhookNameSuffix) {
			continue
		}
		if svc := w.ClientConfig.Service; svc != nil {
			inst.namespace, inst.service = svc.Namespace, svc.Name
		} else if w.ClientConfig.URL != nil {
			inst.url = *w.ClientConfig.URL
		}
		break
	}
	inst.readConfig(ctx, client)
	if inst.service != "" {
		inst.readEndpoints(ctx, client)
	}
	inst.readReadiness(ctx, client)
	return inst
}

// findWebhookConfig finds gopherscope's MutatingWebhookConfiguration: the
// one with the chart's pod webhooks, else (when they cannot be listed) the
// one named like the release.
func findWebhookConfig(ctx context.Context, client kubernetes.Interface, release string) (*admissionregistrationv1.MutatingWebhookConfiguration, string) {
	api := client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		mwc, getErr := api.Get(ctx, release, metav1.GetOptions{})
		if getErr != nil {
			return nil, fmt.Sprintf("cannot read gopherscope's MutatingWebhookConfiguration (%v; %v)", err, getErr)
		}
		return mwc, ""
	}
	for i := range list.Items {
		for _, w := range list.Items[i].Webhooks {
			if strings.HasSuffix(w.Name, webhookNameSuffix) {
				return &list.Items[i], ""
			}
		}
	}
	return nil, "no MutatingWebhookConfiguration has gopherscope's webhooks: gopherscope is not installed"
}

// readConfig reads the injection config from the release's ConfigMap.
func (inst *installation) readConfig(ctx context.Context, client kubernetes.Interface) {
	name := inst.webhookConfig + "-config"
	cm, err := client.CoreV1().ConfigMaps(inst.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		inst.notes = append(inst.notes, fmt.Sprintf("cannot read the injection config (ConfigMap %s/%s: %v): the defaults are assumed", inst.namespace, name, err))
		return
	}
	cfg, err := config.Parse([]byte(cm.Data[configMapKey]), version.Version)
	if err != nil {
		inst.notes = append(inst.notes, fmt.Sprintf("ConfigMap %s/%s: %v: the defaults are assumed", inst.namespace, name, err))
		return
	}
	inst.cfg = cfg
}

// readEndpoints counts the webhook Service's ready endpoints.
func (inst *installation) readEndpoints(ctx context.Context, client kubernetes.Interface) {
	slices, err := client.DiscoveryV1().EndpointSlices(inst.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{discoveryv1.LabelServiceName: inst.service}.String(),
	})
	if err != nil {
		inst.notes = append(inst.notes, fmt.Sprintf("cannot read the webhook Service's EndpointSlices: %v", err))
		return
	}
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				inst.readyEndpoints++
			}
		}
	}
}

// readReadiness finds when the webhook became ready: the earliest Ready
// transition of the ready pods of its Deployment (named like its webhook
// configuration, in the release's namespace). An out-of-cluster webhook has
// none, and its readiness stays unknown.
func (inst *installation) readReadiness(ctx context.Context, client kubernetes.Interface) {
	deploy, err := client.AppsV1().Deployments(inst.namespace).Get(ctx, inst.webhookConfig, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			inst.notes = append(inst.notes, fmt.Sprintf("cannot read the webhook's Deployment: %v", err))
		}
		return
	}
	selector, err := metav1.LabelSelectorAsSelector(deploy.Spec.Selector)
	if err != nil {
		inst.notes = append(inst.notes, fmt.Sprintf("the webhook Deployment's selector: %v", err))
		return
	}
	pods, err := client.CoreV1().Pods(inst.namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		inst.notes = append(inst.notes, fmt.Sprintf("cannot read the webhook's pods: %v", err))
		return
	}
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue &&
				(inst.readySince.IsZero() || c.LastTransitionTime.Time.Before(inst.readySince)) {
				inst.readySince = c.LastTransitionTime.Time
			}
		}
	}
}

// sidecarVersion is the version of the sidecar the webhook injects now
// into pod (its own sidecar-image annotation, else the config's image).
func (inst *installation) sidecarVersion(pod *corev1.Pod) string {
	image := inst.cfg.Sidecar.Image
	if v, ok := pod.Annotations[config.AnnotationSidecarImage]; ok {
		image = strings.TrimSpace(v)
	}
	return injector.SidecarVersion(image)
}

// where says how the API server reaches the webhook, for messages.
func (inst *installation) where() string {
	if inst.url != "" {
		return "the out-of-cluster webhook at " + inst.url
	}
	return fmt.Sprintf("the webhook Service %s/%s", inst.namespace, inst.service)
}
