package injector

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

func TestImageProblem(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name  string
		ref   string
		valid bool
	}{
		{"a bare name is valid", "busybox", true},
		{"a name with a tag is valid", "busybox:1.36", true},
		{"a registry with a port and a path is valid", "registry.example.com:5000/team/tool:v1.2.3", true},
		{"localhost as a registry is valid", "localhost/tool:dev", true},
		{"a digest is valid", "ghcr.io/gopherscope/sidecar@" + digest, true},
		{"a tag and a digest are valid", "ghcr.io/gopherscope/sidecar:v1@" + digest, true},
		{"an empty reference is invalid", "", false},
		{"a space is invalid", "busy box", false},
		{"a leading dash is invalid", "--privileged", false},
		{"a newline is invalid", "busybox\n--x", false},
		{"upper case in the path is invalid", "Team/Tool", false},
		{"a tag starting with a dash is invalid", "busybox:-x", false},
		{"an empty tag is invalid", "busybox:", false},
		{"a short digest is invalid", "busybox@sha256:abc", false},
		{"an empty path component is invalid", "example.com//tool", false},
		{"a non-numeric registry port is invalid", "example.com:http/tool", false},
		{"an over-long reference is invalid", "a/" + strings.Repeat("b", 600), false},
		{"non-ASCII is invalid", "exämple/tool", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem := imageProblem(tt.ref)
			if (problem == "") != tt.valid {
				t.Errorf("imageProblem(%q) = %q, want valid=%v", tt.ref, problem, tt.valid)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		name      string
		value     string
		want      []int32
		wantIssue string
	}{
		{"one port", "6060", []int32{6060}, ""},
		{"a list keeps its order", "7070,6060", []int32{7070, 6060}, ""},
		{"spaces around entries are ignored", " 1 , 65535 ", []int32{1, 65535}, ""},
		{"duplicates keep their first place", "2,1,2,1", []int32{2, 1}, ""},
		{"zero is not a port", "0", nil, "is not a port (1-65535)"},
		{"65536 is not a port", "65536", nil, "is not a port (1-65535)"},
		{"a sign is not accepted", "+80", nil, "is not a port (1-65535)"},
		{"the bad entry of a list is named", "80,http", nil, `has "http", which is not a port (1-65535)`},
		{"an empty entry is refused", "80,", nil, `has "", which is not a port (1-65535)`},
		{"an empty value is refused", "", nil, "is empty"},
		{"more than 16 ports are refused", strings.Repeat("1,", 16) + "1", nil, "lists more than 16 ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, issue := parsePorts(tt.value)
			if diff := cmp.Diff(tt.want, got); diff != "" || issue != tt.wantIssue {
				t.Errorf("parsePorts(%q) = %v, %q; want %v, %q", tt.value, got, issue, tt.want, tt.wantIssue)
			}
		})
	}
}

func TestChoosePort(t *testing.T) {
	used := func(ports ...int32) []portUser {
		var u []portUser
		for _, p := range ports {
			u = append(u, portUser{port: p, who: "container \"app\""})
		}
		return u
	}
	tests := []struct {
		name      string
		preferred int32
		used      []portUser
		want      int32
		warns     bool
	}{
		{"a free port is kept", 9184, used(8080, 6060), 9184, false},
		{"a used port moves to the next free one", 9184, used(9184, 9185, 9187), 9186, true},
		{"the search wraps past 65535 to 1024", 65535, used(65535, 1024), 1025, true},
		{"out-of-range declared ports are ignored", 9184, used(9184, -1, 70000), 9185, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warning := choosePort(tt.preferred, tt.used)
			if got != tt.want || (warning != "") != tt.warns {
				t.Errorf("choosePort(%d) = %d, %q; want %d, warning %v", tt.preferred, got, warning, tt.want, tt.warns)
			}
		})
	}
}

func TestChoosePortIsFastWithManyPorts(t *testing.T) {
	var used []portUser
	for p := int32(1); p <= 65000; p++ {
		used = append(used, portUser{port: p, who: "container \"app\""})
	}
	start := time.Now()
	got, _ := choosePort(1, used)
	if got != 65001 || time.Since(start) > time.Second {
		t.Errorf("choosePort = %d after %s, want 65001 quickly", got, time.Since(start))
	}
}

func TestQuantityAnnotations(t *testing.T) {
	tests := []struct {
		name      string
		value     string
		want      string
		wantIssue string
	}{
		{"millicores", "250m", "250m", ""},
		{"a decimal exponent of two digits", "1e2", "100", ""},
		{"a huge exponent is refused before parsing", "9e999999999", "", "is not a quantity"},
		{"zero is not positive", "0", "", "is not a positive quantity"},
		{"a negative value is not positive", "-1", "", "is not a positive quantity"},
		{"a word is not a quantity", "lots", "", "is not a quantity"},
		{"an unknown suffix is not a quantity", "1Xi", "", "is not a quantity"},
		{"more than the maximum is refused", "1001", "", "is more than the maximum 1k"},
	}
	cfg := config.Default(testVersion)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settings{}
			start := time.Now()
			issue, _ := quantityChecker(&s.cpuRequest, cfg, corev1.ResourceCPU)(tt.value)
			if elapsed := time.Since(start); elapsed > 100*time.Millisecond {
				t.Errorf("checking %q took %s", tt.value, elapsed)
			}
			got := ""
			if s.cpuRequest != nil {
				got = s.cpuRequest.String()
			}
			if got != tt.want || issue != tt.wantIssue {
				t.Errorf("cpu %q = %q, %q; want %q, %q", tt.value, got, issue, tt.want, tt.wantIssue)
			}
		})
	}
}

func TestQuoteBoundsAndEscapes(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"a short value is quoted", "abc", `"abc"`},
		{"control characters are escaped", "a\nb\x00", `"a\nb\x00"`},
		{"a long value is cut and its length given", strings.Repeat("x", 100), `"` + strings.Repeat("x", 64) + `"… (100 bytes)`},
		{"a cut never splits a rune", strings.Repeat("x", 63) + "é" + "tail", `"` + strings.Repeat("x", 63) + `"… (69 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quote(tt.value); got != tt.want {
				t.Errorf("quote = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAllReasonsAreDistinctLabelValues(t *testing.T) {
	seen := map[Reason]bool{}
	valid := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	for _, r := range AllReasons() {
		if seen[r] || !valid.MatchString(string(r)) {
			t.Errorf("reason %q is duplicated or not a lower-case-dashed word", r)
		}
		seen[r] = true
	}
	if len(seen) != 14 {
		t.Errorf("%d reasons, want 14", len(seen))
	}
}

func TestInjectWithoutPodOrConfig(t *testing.T) {
	want := Decision{Action: ActionSkip, Reason: ReasonInvalidInput, Message: "no pod or no configuration to inject with"}
	for name, call := range map[string]func() (*corev1.Pod, []string, Decision){
		"no pod":    func() (*corev1.Pod, []string, Decision) { return Inject(nil, Namespace{}, config.Default(testVersion)) },
		"no config": func() (*corev1.Pod, []string, Decision) { return Inject(typicalPod(), Namespace{}, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			pod, warnings, d := call()
			if pod != nil || warnings != nil || d != want {
				t.Errorf("got %v, %q, %+v; want nil, nil, %+v", pod, warnings, d, want)
			}
		})
	}
}

func TestStatusAnnotationRoundTrips(t *testing.T) {
	cfg := config.Default(testVersion)
	cfg.InjectorVersion = "v1.2.3"
	pod := typicalPod()
	pod.Annotations[config.AnnotationPort] = "6060,7070"
	out, _, d := Inject(pod, Namespace{Offline: true}, cfg)
	if d.Action != ActionInject {
		t.Fatalf("decision %+v, want inject", d)
	}
	got, err := ParseStatus(out.Annotations[config.AnnotationStatus])
	if err != nil {
		t.Fatalf("ParseStatus: %v", err)
	}
	want := Status{
		Version: "v1.2.3", Sidecar: config.SidecarContainerName, Native: true, Port: config.DefaultSidecarPort,
		Target: StatusTarget{Container: "web", Ports: []int32{6060, 7070}, ExpvarPath: config.DefaultExpvarPath, PprofPath: config.DefaultPprofPath},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if _, err := ParseStatus("{not json"); err == nil {
		t.Error("ParseStatus accepted invalid JSON")
	}
}
