package injector

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/config"
)

// limitRange is a LimitRange named name with one item of type kind; each
// of min, max and ratio is "resource=quantity,..." or "".
func limitRange(name string, kind corev1.LimitType, minimum, maximum, ratio string) corev1.LimitRange {
	list := func(spec string) corev1.ResourceList {
		if spec == "" {
			return nil
		}
		l := corev1.ResourceList{}
		for pair := range strings.SplitSeq(spec, ",") {
			k, v, _ := strings.Cut(pair, "=")
			l[corev1.ResourceName(k)] = resource.MustParse(v)
		}
		return l
	}
	return corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: kind, Min: list(minimum), Max: list(maximum), MaxLimitRequestRatio: list(ratio),
		}}},
	}
}

func TestFitLimitRangesOnlyRaisesAndRefusesWhatItCannotFit(t *testing.T) {
	sidecar := res("10m", "24Mi", "100m", "64Mi")
	tests := []struct {
		name         string
		start        corev1.ResourceRequirements
		ranges       []corev1.LimitRange
		want         corev1.ResourceRequirements
		wantWarnings int
		wantRefusal  string
	}{
		{name: "no LimitRange changes nothing", start: sidecar, want: sidecar},
		{name: "limits of other kinds are not the sidecar's", start: sidecar,
			ranges: []corev1.LimitRange{limitRange("pvc", corev1.LimitTypePersistentVolumeClaim, "storage=1Gi", "", "")}, want: sidecar},
		{name: "bounds the sidecar is within change nothing", start: sidecar,
			ranges: []corev1.LimitRange{limitRange("wide", corev1.LimitTypeContainer, "cpu=1m,memory=1Mi", "cpu=1,memory=1Gi", "cpu=10,memory=4")}, want: sidecar},
		{name: "a minimum above the request raises the request", start: sidecar,
			ranges: []corev1.LimitRange{limitRange("floor", corev1.LimitTypeContainer, "cpu=50m", "", "")},
			want:   res("50m", "24Mi", "100m", "64Mi"), wantWarnings: 1},
		{name: "a minimum above the limit raises the request and the limit", start: sidecar,
			ranges: []corev1.LimitRange{limitRange("floor", corev1.LimitTypeContainer, "memory=128Mi", "", "")},
			want:   res("10m", "128Mi", "100m", "128Mi"), wantWarnings: 1},
		{name: "a ratio raises the request to the limit divided by it, in whole millicores", start: sidecar,
			ranges: []corev1.LimitRange{limitRange("ratio", corev1.LimitTypeContainer, "", "", "cpu=3")},
			want:   res("34m", "24Mi", "100m", "64Mi"), wantWarnings: 1},
		{name: "a fractional memory ratio raises the request to whole bytes", start: sidecar,
			ranges: []corev1.LimitRange{limitRange("ratio", corev1.LimitTypeContainer, "", "", "memory=1.5")},
			want: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: *resource.NewQuantity(44739243, resource.BinarySI)},
				Limits:   sidecar.Limits,
			}, wantWarnings: 1},
		{name: "the tightest of two LimitRanges counts", start: sidecar,
			ranges: []corev1.LimitRange{
				limitRange("loose", corev1.LimitTypeContainer, "cpu=20m", "", ""),
				limitRange("tight", corev1.LimitTypeContainer, "cpu=40m", "", ""),
			},
			want: res("40m", "24Mi", "100m", "64Mi"), wantWarnings: 1},
		{name: "a maximum without a configured limit becomes the limit", start: res("10m", "24Mi", "", "64Mi"),
			ranges: []corev1.LimitRange{limitRange("cap", corev1.LimitTypeContainer, "", "cpu=500m", "")},
			want:   res("10m", "24Mi", "500m", "64Mi"), wantWarnings: 1},
		{name: "a limit above the maximum is refused, not lowered", start: sidecar,
			ranges:      []corev1.LimitRange{limitRange("small", corev1.LimitTypeContainer, "", "memory=48Mi", "")},
			wantRefusal: `the sidecar's memory limit 64Mi is above the maximum 48Mi per container of LimitRange "small"`},
		{name: "a request above the maximum is refused", start: res("2", "24Mi", "", "64Mi"),
			ranges:      []corev1.LimitRange{limitRange("small", corev1.LimitTypeContainer, "", "cpu=1", "")},
			wantRefusal: `the sidecar's cpu request 2 is above the maximum 1 per container of LimitRange "small"`},
		{name: "a ratio without a limit is refused", start: res("10m", "24Mi", "", "64Mi"),
			ranges:      []corev1.LimitRange{limitRange("ratio", corev1.LimitTypeContainer, "", "", "cpu=2")},
			wantRefusal: `the sidecar has no cpu limit, which the maximum limit-to-request ratio 2 per container of LimitRange "ratio" requires`},
		{name: "a minimum for a resource the sidecar does not request is met by requesting it", start: sidecar,
			ranges: []corev1.LimitRange{limitRange("disk", corev1.LimitTypeContainer, "ephemeral-storage=1Mi", "", "")},
			want: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("24Mi"), corev1.ResourceEphemeralStorage: resource.MustParse("1Mi")},
				Limits:   sidecar.Limits,
			}, wantWarnings: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := *tt.start.DeepCopy()
			warnings, refusal := fitLimitRanges(&got, tt.ranges)
			if refusal != tt.wantRefusal {
				t.Fatalf("refusal = %q, want %q", refusal, tt.wantRefusal)
			}
			if refusal != "" {
				return
			}
			if !equality.Semantic.DeepEqual(tt.want, got) {
				t.Errorf("resources (-want +got):\n%s", cmp.Diff(tt.want, got))
			}
			if len(warnings) != tt.wantWarnings {
				t.Errorf("warnings = %q, want %d", warnings, tt.wantWarnings)
			}
			for _, r := range tt.ranges {
				for _, item := range r.Spec.Limits {
					if item.Type != corev1.LimitTypeContainer {
						continue
					}
					for name, ratio := range item.MaxLimitRequestRatio {
						if exceedsRatio(got.Requests[name], got.Limits[name], ratio) {
							t.Errorf("%s: limit %s over request %s is still above the ratio %s", name, got.Limits.Name(name, ""), got.Requests.Name(name, ""), ratio.String())
						}
					}
				}
			}
		})
	}
}

func TestCheckPodLimitsRefusesWhatTheAPIServerWould(t *testing.T) {
	sidecar := res("10m", "24Mi", "100m", "64Mi")
	podLevel := func(r corev1.ResourceRequirements) *corev1.ResourceRequirements { return &r }
	tests := []struct {
		name     string
		spec     corev1.PodSpec
		ranges   []corev1.LimitRange
		native   bool
		sidecar  corev1.ResourceRequirements
		wantWhy  string
		wantNone bool
	}{
		{name: "a pod without pod-level resources or Pod LimitRanges fits", native: true, wantNone: true,
			spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: res("4", "8Gi", "", "")}}}},
		{name: "pod-level requests with room for the sidecar fit", native: true, wantNone: true,
			spec: corev1.PodSpec{Resources: podLevel(res("1", "1Gi", "", "")), Containers: []corev1.Container{{Resources: res("500m", "512Mi", "", "")}}}},
		{name: "pod-level requests without room are refused", native: true,
			spec:    corev1.PodSpec{Resources: podLevel(res("500m", "1Gi", "", "")), Containers: []corev1.Container{{Resources: res("500m", "512Mi", "", "")}}},
			wantWhy: "with the sidecar, the pod's containers request 510m of cpu, above its spec.resources.requests of 500m"},
		{name: "pod-level limits alone bound the requests, which default under them", native: false,
			spec:    corev1.PodSpec{Resources: podLevel(res("", "", "", "512Mi")), Containers: []corev1.Container{{Resources: res("", "500Mi", "", "")}}},
			wantWhy: "with the sidecar, the pod's containers request 524Mi of memory, above its spec.resources.limits of 512Mi"},
		{name: "a sidecar limit above the pod-level limit is refused", native: true,
			spec:    corev1.PodSpec{Resources: podLevel(res("", "", "50m", "")), Containers: []corev1.Container{{Resources: res("10m", "", "", "")}}},
			wantWhy: "the sidecar's cpu limit 100m is above the pod's spec.resources.limits of 50m"},
		{name: "an init container larger than the rest sets the pod's request, the native sidecar after it does not add to it", native: true, wantNone: true,
			spec: corev1.PodSpec{
				Resources:      podLevel(res("1", "", "", "")),
				InitContainers: []corev1.Container{{Resources: res("1", "", "", "")}},
				Containers:     []corev1.Container{{Resources: res("100m", "", "", "")}},
			}},
		{name: "a Pod LimitRange maximum the sidecar's limit would pass is refused", native: true,
			spec:    corev1.PodSpec{Containers: []corev1.Container{{Resources: res("1", "1Gi", "1", "1Gi")}}},
			ranges:  []corev1.LimitRange{limitRange("pods", corev1.LimitTypePod, "", "memory=1Gi", "")},
			wantWhy: `with the sidecar, the pod's memory limit 1088Mi is above the maximum 1Gi per pod of LimitRange "pods"`},
		{name: "a Pod LimitRange ratio the sidecar would break is refused", native: false,
			spec:    corev1.PodSpec{Containers: []corev1.Container{{Resources: res("100m", "", "100m", "")}}},
			ranges:  []corev1.LimitRange{limitRange("pods", corev1.LimitTypePod, "", "", "cpu=1.5")},
			wantWhy: `with the sidecar, the pod's cpu limit 200m is more than 1.5 times its request 110m, the maximum ratio per pod of LimitRange "pods"`},
		{name: "a Pod LimitRange with room fits", native: true, wantNone: true,
			spec:   corev1.PodSpec{Containers: []corev1.Container{{Resources: res("1", "1Gi", "1", "1Gi")}}},
			ranges: []corev1.LimitRange{limitRange("pods", corev1.LimitTypePod, "memory=1Mi", "memory=2Gi", "cpu=2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sidecar
			if tt.sidecar.Requests != nil || tt.sidecar.Limits != nil {
				r = tt.sidecar
			}
			got := checkPodLimits(&corev1.Pod{Spec: tt.spec}, r, tt.ranges, tt.native)
			if tt.wantNone && got != "" || !tt.wantNone && got != tt.wantWhy {
				t.Errorf("checkPodLimits = %q, want %q", got, tt.wantWhy)
			}
		})
	}
}

func TestGuaranteedPodGetsSidecarRequestsEqualToLimits(t *testing.T) {
	guaranteed := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: res("1", "1Gi", "1", "1Gi")}}}}
	lowCPU := resource.MustParse("5m")
	tests := []struct {
		name         string
		pod          *corev1.Pod
		edit         func(*config.Config)
		s            settings
		want         corev1.ResourceRequirements
		wantWarnings []string
	}{
		{name: "a Burstable pod keeps the configured requests", pod: &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}},
			want: res("10m", "24Mi", "100m", "64Mi")},
		{name: "a Guaranteed pod gets the limits as requests", pod: guaranteed, want: res("100m", "64Mi", "100m", "64Mi")},
		{name: "a request annotation below the limit gives way, with a warning", pod: guaranteed, s: settings{cpuRequest: &lowCPU},
			want:         res("100m", "64Mi", "100m", "64Mi"),
			wantWarnings: []string{"gopherscope.io/sidecar-cpu: the pod is Guaranteed, so the sidecar requests its cpu limit 100m instead of 5m, to keep the pod Guaranteed"}},
		{name: "a config without a cpu limit makes the request the limit", pod: guaranteed,
			edit: func(c *config.Config) { delete(c.Sidecar.Resources.Limits, corev1.ResourceCPU) },
			want: res("10m", "64Mi", "10m", "64Mi")},
		{name: "a config without cpu resources cannot keep the pod Guaranteed, and says so", pod: guaranteed,
			edit: func(c *config.Config) {
				delete(c.Sidecar.Resources.Limits, corev1.ResourceCPU)
				delete(c.Sidecar.Resources.Requests, corev1.ResourceCPU)
			},
			want:         res("", "64Mi", "", "64Mi"),
			wantWarnings: []string{"the pod is Guaranteed, but the injection config gives the sidecar no cpu request or limit: with the sidecar, the pod is Burstable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(testVersion)
			if tt.edit != nil {
				tt.edit(cfg)
			}
			got, warnings, refusal := sidecarResources(tt.pod, &tt.s, cfg, nil, true)
			if refusal != "" {
				t.Fatalf("refusal %q", refusal)
			}
			if !equality.Semantic.DeepEqual(tt.want, got) {
				t.Errorf("resources (-want +got):\n%s", cmp.Diff(tt.want, got))
			}
			if diff := cmp.Diff(tt.wantWarnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
