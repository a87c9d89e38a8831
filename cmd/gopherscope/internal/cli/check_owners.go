package cli

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ownerRef is one controller in a pod's chain of owners.
type ownerRef struct{ kind, name string }

// owners is a pod's chain of controllers (ReplicaSet then Deployment, Job
// then CronJob, StatefulSet, DaemonSet) and the pod template its nearest one
// creates pods from.
type owners struct {
	pod      string
	chain    []ownerRef
	template *corev1.PodTemplateSpec
}

// owners reads the pod's controllers and its nearest one's template; an
// owner that cannot be read ends the chain (the pod itself is then dry-run).
func (c *checker) owners(ctx context.Context, pod *corev1.Pod) owners {
	o := owners{pod: pod.Name}
	ref := metav1.GetControllerOf(pod)
	for ref != nil {
		o.chain = append(o.chain, ownerRef{kind: ref.Kind, name: ref.Name})
		var meta metav1.Object
		var template *corev1.PodTemplateSpec
		var err error
		switch ref.Kind {
		case "ReplicaSet":
			rs, e := c.client.AppsV1().ReplicaSets(c.namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err = e; e == nil {
				meta, template = rs, &rs.Spec.Template
			}
		case "StatefulSet":
			ss, e := c.client.AppsV1().StatefulSets(c.namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err = e; e == nil {
				meta, template = ss, &ss.Spec.Template
			}
		case "DaemonSet":
			ds, e := c.client.AppsV1().DaemonSets(c.namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err = e; e == nil {
				meta, template = ds, &ds.Spec.Template
			}
		case "Job":
			job, e := c.client.BatchV1().Jobs(c.namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err = e; e == nil {
				meta, template = job, &job.Spec.Template
			}
		default:
			return o
		}
		if err != nil {
			return o
		}
		if o.template == nil {
			o.template = template
		}
		ref = metav1.GetControllerOf(meta)
	}
	return o
}

// has reports whether kind/name is one of the pod's controllers.
func (o owners) has(kind, name string) bool {
	for _, r := range o.chain {
		if r.kind == kind && r.name == name {
			return true
		}
	}
	return false
}

// templateSource names what a dry-run creates: "ReplicaSet web-7d9f's
// template" or "spec" (the pod's own).
func (o owners) templateSource() string {
	if o.template == nil || len(o.chain) == 0 {
		return "spec"
	}
	return fmt.Sprintf("%s %s's template", o.chain[0].kind, o.chain[0].name)
}

// restartCommand re-creates the pod: a rollout restart of its Deployment,
// StatefulSet or DaemonSet, else the deletion of the pod (its controller,
// if any, creates it again).
func (o owners) restartCommand(ns string) string {
	for i := len(o.chain) - 1; i >= 0; i-- {
		switch o.chain[i].kind {
		case "Deployment", "StatefulSet", "DaemonSet":
			return fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(o.chain[i].kind), o.chain[i].name, ns)
		}
	}
	if len(o.chain) > 0 {
		return fmt.Sprintf("kubectl delete pod %s -n %s (its %s creates it again)", o.pod, ns, o.chain[0].kind)
	}
	return fmt.Sprintf("re-create the pod: kubectl get pod %s -n %s -o yaml > pod.yaml, then kubectl replace --force -f pod.yaml", o.pod, ns)
}
