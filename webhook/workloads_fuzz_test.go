package webhook

import (
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
)

// FuzzWorkloadValidator feeds arbitrary bytes as the Deployment of a CREATE
// and as the new and old CronJob of an UPDATE: the answer is always a
// complete response (allowed, or refused with a code and a message), never
// a recovered panic, and never a patch.
func FuzzWorkloadValidator(f *testing.F) {
	deployment, err := json.Marshal(&appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Template: podTemplate(map[string]string{config.AnnotationInterval: "fast"}, nil),
	}})
	if err != nil {
		f.Fatal(err)
	}
	cronJob, err := json.Marshal(&batchv1.CronJob{Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
		Template: podTemplate(nil, map[string]string{config.KeyInject: config.InjectEnabled}),
	}}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		deployment, deployment[:len(deployment)/2], cronJob,
		[]byte(`{"spec":{"template":{"metadata":{"annotations":{"gopherscope.io/port":"0"}},"spec":{"containers":[]}}}}`),
		[]byte(`{"spec":{"jobTemplate":{"spec":{"template":7}}}}`),
		[]byte(`{}`), []byte(`null`), []byte(`[]`), nil,
	} {
		f.Add(seed, cronJob)
	}
	f.Fuzz(func(t *testing.T, raw, old []byte) {
		v, _ := newTestValidator(t, testConfig(func(c *config.Config) { c.Strict = len(raw)%2 == 0 }))
		create := admissionv1.AdmissionRequest{
			UID: "fuzz", Kind: deploymentKind, Namespace: "shop", Operation: admissionv1.Create,
			Object: runtime.RawExtension{Raw: raw},
		}
		update := admissionv1.AdmissionRequest{
			UID: "fuzz", Kind: cronJobKind, Namespace: "plain", Operation: admissionv1.Update,
			Object: runtime.RawExtension{Raw: raw}, OldObject: runtime.RawExtension{Raw: old},
		}
		for _, req := range []admissionv1.AdmissionRequest{create, update} {
			resp := v.Handle(t.Context(), admission.Request{AdmissionRequest: req})
			if len(resp.Patch) != 0 || len(resp.Patches) != 0 || resp.PatchType != nil {
				t.Fatalf("the validator answered with a patch: %+v", resp)
			}
			if resp.Result == nil || !resp.Allowed && (resp.Result.Code < 400 || resp.Result.Message == "") {
				t.Fatalf("a refusal without a code and message: %+v", resp.Result)
			}
			if strings.Contains(resp.Result.Message, "recovered panic") {
				t.Fatalf("the validator panicked: %s", resp.Result.Message)
			}
		}
	})
}
