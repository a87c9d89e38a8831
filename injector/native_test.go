package injector

import (
	"testing"

	"github.com/gopherscope/gopherscope/config"
)

func TestStatusRecordsWhySidecarIsNativeOrNot(t *testing.T) {
	tests := []struct {
		name       string
		cfg        *config.Config
		wantNative bool
		wantBasis  string
	}{
		{name: "an unresolved auto config records no basis", cfg: config.Default(testVersion), wantNative: true},
		{name: "a new API server's", cfg: config.Default(testVersion).ResolveNativeSidecarFor(33, config.UnknownKubelet), wantNative: true, wantBasis: "apiserver 1.33"},
		{name: "an old kubelet's", cfg: config.Default(testVersion).ResolveNativeSidecarFor(30, 28), wantBasis: "oldest kubelet 1.28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, decision := Inject(typicalPod(), Namespace{Name: "shop", Labels: map[string]string{config.KeyInject: config.InjectEnabled}}, tt.cfg)
			if decision.Action != ActionInject {
				t.Fatalf("decision %+v, want inject", decision)
			}
			st, err := ParseStatus(out.Annotations[config.AnnotationStatus])
			if err != nil {
				t.Fatal(err)
			}
			if st.Native != tt.wantNative || st.NativeBasis != tt.wantBasis {
				t.Errorf("status native %v because %q, want %v because %q", st.Native, st.NativeBasis, tt.wantNative, tt.wantBasis)
			}
		})
	}
}
