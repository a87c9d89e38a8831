package config

import (
	"math"
	"testing"
)

func TestParseKubeMinor(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{name: "a bare major.minor", in: "1.28", want: 28},
		{name: "a git version with a v", in: "v1.29.3", want: 29},
		{name: "a vendor build", in: "v1.30.0-eks-1234", want: 30},
		{name: "a later major counts as newest", in: "2.0", want: math.MaxInt32},
		{name: "major zero is refused", in: "0.9", wantErr: true},
		{name: "a word is refused", in: "latest", wantErr: true},
		{name: "empty is refused", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKubeMinor(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseKubeMinor(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseKubeMinor(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestChooseNativeSidecarFollowsTheSkewPolicy is the decision table of
// nativeSidecar: auto. Native sidecars are on by default from Kubernetes
// 1.29, in the API server and in the kubelet; the version skew policy lets
// kubelets be up to three minor versions older than the API server, so from
// API server 1.32 on every kubelet is at least 1.29.
func TestChooseNativeSidecarFollowsTheSkewPolicy(t *testing.T) {
	tests := []struct {
		name          string
		mode          NativeSidecarMode
		server        int
		oldestKubelet int
		want          NativeSidecarMode
		wantBasis     string
	}{
		{"always is always, whatever the versions", NativeSidecarAlways, 20, 20, NativeSidecarAlways, "config always"},
		{"never is never, whatever the versions", NativeSidecarNever, 40, 40, NativeSidecarNever, "config never"},
		{"auto on API server 1.32 is native: every kubelet is 1.29+", NativeSidecarAuto, 32, UnknownKubelet, NativeSidecarAlways, "apiserver 1.32"},
		{"auto on API server 1.32 does not look at kubelets", NativeSidecarAuto, 32, 28, NativeSidecarAlways, "apiserver 1.32"},
		{"unset counts as auto", "", 35, UnknownKubelet, NativeSidecarAlways, "apiserver 1.35"},
		{"auto on API server 1.28 is a regular container", NativeSidecarAuto, 28, 28, NativeSidecarNever, "apiserver 1.28"},
		{"auto on API server 1.31 with kubelets 1.29+ is native", NativeSidecarAuto, 31, 29, NativeSidecarAlways, "oldest kubelet 1.29"},
		{"auto on API server 1.31 with a kubelet 1.28 is a regular container", NativeSidecarAuto, 31, 28, NativeSidecarNever, "oldest kubelet 1.28"},
		{"auto on API server 1.29 with a kubelet 1.26 is a regular container", NativeSidecarAuto, 29, 26, NativeSidecarNever, "oldest kubelet 1.26"},
		{"auto on API server 1.30 without a known kubelet is a regular container", NativeSidecarAuto, 30, UnknownKubelet, NativeSidecarNever, "apiserver 1.30, no kubelet version known"},
		{"a later major API server counts as newest", NativeSidecarAuto, math.MaxInt32, UnknownKubelet, NativeSidecarAlways, "apiserver 2.0 or later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, basis := ChooseNativeSidecar(tt.mode, tt.server, tt.oldestKubelet)
			if got != tt.want || basis != tt.wantBasis {
				t.Errorf("ChooseNativeSidecar(%q, %d, %d) = %q, %q; want %q, %q", tt.mode, tt.server, tt.oldestKubelet, got, basis, tt.want, tt.wantBasis)
			}
			wantNeeds := (tt.mode == NativeSidecarAuto || tt.mode == "") && tt.server >= 29 && tt.server < 32
			if needs := NeedsKubeletVersion(tt.mode, tt.server); needs != wantNeeds {
				t.Errorf("NeedsKubeletVersion(%q, %d) = %v, want %v", tt.mode, tt.server, needs, wantNeeds)
			}
		})
	}
}

func TestResolveNativeSidecarForRecordsTheBasis(t *testing.T) {
	cfg := Default("v1")
	got := cfg.ResolveNativeSidecarFor(30, 28)
	if got.NativeSidecar != NativeSidecarNever || got.NativeSidecarBasis != "oldest kubelet 1.28" {
		t.Errorf("resolved %q because %q, want never because the oldest kubelet is 1.28", got.NativeSidecar, got.NativeSidecarBasis)
	}
	if cfg.NativeSidecar != NativeSidecarAuto || cfg.NativeSidecarBasis != "" {
		t.Errorf("the original changed: %q, %q", cfg.NativeSidecar, cfg.NativeSidecarBasis)
	}
}
