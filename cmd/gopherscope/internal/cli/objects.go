package cli

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// object is a decoded document the injector understands: a Pod, or a
// workload whose pod template is injected as if it were a pod.
type object interface {
	// meta is the object's own metadata (its name and namespace).
	meta() *metav1.ObjectMeta
	// template is the pod template's metadata and spec, or the pod's own:
	// the injector's pod is built from them and written back to them.
	template() (*metav1.ObjectMeta, *corev1.PodSpec)
}

type podObject struct{ corev1.Pod }

func (o *podObject) meta() *metav1.ObjectMeta { return &o.ObjectMeta }
func (o *podObject) template() (*metav1.ObjectMeta, *corev1.PodSpec) {
	return &o.ObjectMeta, &o.Spec
}

type deploymentObject struct{ appsv1.Deployment }

func (o *deploymentObject) meta() *metav1.ObjectMeta { return &o.ObjectMeta }
func (o *deploymentObject) template() (*metav1.ObjectMeta, *corev1.PodSpec) {
	return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
}

type statefulSetObject struct{ appsv1.StatefulSet }

func (o *statefulSetObject) meta() *metav1.ObjectMeta { return &o.ObjectMeta }
func (o *statefulSetObject) template() (*metav1.ObjectMeta, *corev1.PodSpec) {
	return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
}

type daemonSetObject struct{ appsv1.DaemonSet }

func (o *daemonSetObject) meta() *metav1.ObjectMeta { return &o.ObjectMeta }
func (o *daemonSetObject) template() (*metav1.ObjectMeta, *corev1.PodSpec) {
	return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
}

type replicaSetObject struct{ appsv1.ReplicaSet }

func (o *replicaSetObject) meta() *metav1.ObjectMeta { return &o.ObjectMeta }
func (o *replicaSetObject) template() (*metav1.ObjectMeta, *corev1.PodSpec) {
	return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
}

type jobObject struct{ batchv1.Job }

func (o *jobObject) meta() *metav1.ObjectMeta { return &o.ObjectMeta }
func (o *jobObject) template() (*metav1.ObjectMeta, *corev1.PodSpec) {
	return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
}

type cronJobObject struct{ batchv1.CronJob }

func (o *cronJobObject) meta() *metav1.ObjectMeta { return &o.ObjectMeta }
func (o *cronJobObject) template() (*metav1.ObjectMeta, *corev1.PodSpec) {
	t := &o.Spec.JobTemplate.Spec.Template
	return &t.ObjectMeta, &t.Spec
}

// newObject returns an empty object for the kinds the injector handles, or
// nil for every other kind (passed through untouched).
func newObject(tm metav1.TypeMeta) object {
	switch tm.GroupVersionKind() {
	case corev1.SchemeGroupVersion.WithKind("Pod"):
		return &podObject{}
	case appsv1.SchemeGroupVersion.WithKind("Deployment"):
		return &deploymentObject{}
	case appsv1.SchemeGroupVersion.WithKind("StatefulSet"):
		return &statefulSetObject{}
	case appsv1.SchemeGroupVersion.WithKind("DaemonSet"):
		return &daemonSetObject{}
	case appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):
		return &replicaSetObject{}
	case batchv1.SchemeGroupVersion.WithKind("Job"):
		return &jobObject{}
	case batchv1.SchemeGroupVersion.WithKind("CronJob"):
		return &cronJobObject{}
	default:
		return nil
	}
}

// workloadKinds are the kinds newObject knows, by name, to tell a user whose
// document has one of them under an unsupported apiVersion.
var workloadKinds = map[string]string{
	"Pod": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
	"ReplicaSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
}

// header is what every document is first decoded into.
type header struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        struct {
		Name         string `json:"name"`
		GenerateName string `json:"generateName"`
	} `json:"metadata"`
}

// decodeHeader returns a document as JSON (converted from YAML unless
// isJSON) and its kind and name.
func decodeHeader(body []byte, isJSON bool) ([]byte, header, error) {
	data := body
	if !isJSON {
		var err error
		if data, err = yaml.YAMLToJSON(body); err != nil {
			return nil, header{}, fmt.Errorf("invalid YAML: %w", err)
		}
	}
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, header{}, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	return data, h, nil
}

// isList reports whether the document is a v1 List, what kubectl get -o
// yaml|json prints for several objects.
func (h header) isList() bool { return h.APIVersion == "v1" && h.Kind == "List" }

// objectName is "kind/name" for the summary, warnings and errors, as
// kubectl names objects; where says which document an unnamed object is.
func (h header) objectName(where string) string {
	kind := kindName(h.Kind)
	if kind == "" {
		kind = "object"
	}
	switch {
	case h.Metadata.Name != "":
		return kind + "/" + h.Metadata.Name
	case h.Metadata.GenerateName != "":
		return kind + "/" + h.Metadata.GenerateName
	default:
		return kind + "/(unnamed, " + where + ")"
	}
}
