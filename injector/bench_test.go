package injector

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// BenchmarkInject measures one injection of a typical pod and of a pod
// with 2,000 environment variables (issue 5's budgets: 100 µs and 25 ms in
// the handler, of which this is the injector's share).
func BenchmarkInject(b *testing.B) {
	cfg := config.Default(testVersion)
	cfg.InjectorVersion = testVersion
	ns := Namespace{Name: "shop", Labels: map[string]string{config.KeyInject: config.InjectEnabled}}
	for _, bc := range []struct {
		name string
		pod  func() *corev1.Pod
	}{
		{"typical pod", typicalPod},
		{"pod with 2000 env vars", func() *corev1.Pod { return manyEnvPod(manyEnvCount) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pod := bc.pod()
			if _, _, d := Inject(pod, ns, cfg); d.Action != ActionInject {
				b.Fatalf("decision %+v, want inject", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				Inject(pod, ns, cfg)
			}
		})
	}
}
