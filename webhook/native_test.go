package webhook

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// TestNativeSidecarFollowsTheOldestKubeletWhereTheAPIServerLeavesItOpen
// sends a pod to handlers prepared for API servers of several versions,
// with kubelets of several versions, and reads from the patched pod where
// the sidecar went and the basis recorded in its status annotation.
func TestNativeSidecarFollowsTheOldestKubeletWhereTheAPIServerLeavesItOpen(t *testing.T) {
	tests := []struct {
		name       string
		server     int
		kubelets   KubeletVersionLookup
		mode       config.NativeSidecarMode
		wantNative bool
		wantBasis  string
	}{
		{name: "API server 1.33: native, kubelets unread", server: 33, kubelets: KubeletMinor(28), wantNative: true, wantBasis: "apiserver 1.33"},
		{name: "API server 1.32: native, every kubelet is 1.29+", server: 32, kubelets: KubeletMinor(config.UnknownKubelet), wantNative: true, wantBasis: "apiserver 1.32"},
		{name: "API server 1.30 with a 1.28 kubelet: a regular container", server: 30, kubelets: KubeletMinor(28), wantBasis: "oldest kubelet 1.28"},
		{name: "API server 1.30 with kubelets 1.29+: native", server: 30, kubelets: KubeletMinor(29), wantNative: true, wantBasis: "oldest kubelet 1.29"},
		{name: "API server 1.31 with no kubelet known: a regular container", server: 31, kubelets: KubeletMinor(config.UnknownKubelet), wantBasis: "apiserver 1.31, no kubelet version known"},
		{name: "API server 1.28: a regular container", server: 28, kubelets: KubeletMinor(28), wantBasis: "apiserver 1.28"},
		{name: "nativeSidecar: always on API server 1.30 ignores the kubelets", server: 30, kubelets: KubeletMinor(27), mode: config.NativeSidecarAlways, wantNative: true, wantBasis: "config always"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(testVersion)
			if tt.mode != "" {
				cfg.NativeSidecar = tt.mode
			}
			h, _ := newTestHandler(t, prepareConfig(cfg, tt.server, Options{Namespace: "gopherscope", Version: testVersion}))
			h.ServerMinor, h.Kubelets = tt.server, tt.kubelets
			raw := podJSON(nil, nil)
			resp := h.Handle(t.Context(), admission.Request{AdmissionRequest: podRequest("shop", raw)})
			if !resp.Allowed || len(resp.Patch) == 0 {
				t.Fatalf("allowed %v with patch %q, want the injection", resp.Allowed, resp.Patch)
			}
			pod, _ := applyPatch(t, raw, resp.Patch)
			native := len(pod.Spec.InitContainers) == 1 && pod.Spec.InitContainers[0].Name == config.SidecarContainerName
			regular := len(pod.Spec.Containers) == 2 && pod.Spec.Containers[1].Name == config.SidecarContainerName
			if native != tt.wantNative || native == regular {
				t.Errorf("sidecar as native %v, as regular container %v; want native %v", native, regular, tt.wantNative)
			}
			st, err := injector.ParseStatus(pod.Annotations[config.AnnotationStatus])
			if err != nil {
				t.Fatal(err)
			}
			if st.Native != tt.wantNative || st.NativeBasis != tt.wantBasis {
				t.Errorf("status native %v because %q, want %v because %q", st.Native, st.NativeBasis, tt.wantNative, tt.wantBasis)
			}
		})
	}
}
