package injector

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

// addedAnnotations are the only annotation keys injection may add.
var addedAnnotations = []string{
	config.AnnotationStatus,
	config.AnnotationPrometheusScrape,
	config.AnnotationPrometheusPort,
	config.AnnotationPrometheusPath,
	config.AnnotationDefaultContainer,
}

// sidecarFlags are the flags the injector may write into the sidecar's args.
var sidecarFlags = []string{
	sidecarconf.FlagTargetPorts, sidecarconf.FlagExpvarPath, sidecarconf.FlagPprofPath, sidecarconf.FlagMetricsPath,
	sidecarconf.FlagInterval, sidecarconf.FlagListenAddress, sidecarconf.FlagHistory, sidecarconf.FlagFindings,
	sidecarconf.FlagDiagnosticsListenAddress,
}

// checkInjectProperties runs Inject on pod and asserts what must hold for
// every input: the input is not modified, the output is deterministic, a
// skip or deny returns the pod unchanged, an injection only appends and
// sets, adds exactly one sidecar with well-formed args, and a second pass
// changes nothing.
func checkInjectProperties(t *testing.T, pod *corev1.Pod, ns Namespace, cfg *config.Config) {
	t.Helper()
	before := pod.DeepCopy()
	out, warnings, decision := Inject(pod, ns, cfg)
	if !equality.Semantic.DeepEqual(before, pod) {
		t.Fatalf("Inject modified its input (-before +after):\n%s", cmp.Diff(before, pod))
	}
	if !slices.Contains(AllReasons(), decision.Reason) {
		t.Fatalf("reason %q is not in AllReasons()", decision.Reason)
	}
	if (decision.Action == ActionInject) != (decision.Reason == ReasonInjected) {
		t.Fatalf("decision %+v: action and reason disagree", decision)
	}

	out2, warnings2, decision2 := Inject(pod, ns, cfg)
	if !equality.Semantic.DeepEqual(out, out2) {
		t.Fatalf("two runs on the same input differ (-first +second):\n%s", cmp.Diff(out, out2))
	}
	if !slices.Equal(warnings, warnings2) || decision != decision2 {
		t.Fatalf("two runs differ: %q %+v, then %q %+v", warnings, decision, warnings2, decision2)
	}

	if decision.Action != ActionInject {
		if !equality.Semantic.DeepEqual(pod, out) {
			t.Fatalf("%s (%s) changed the pod (-in +out):\n%s", decision.Action, decision.Reason, cmp.Diff(pod, out))
		}
		return
	}
	checkOnlyAppended(t, pod, out)
	checkSidecar(t, out)

	again, againWarnings, againDecision := Inject(out, ns, cfg)
	if againDecision.Reason != ReasonAlreadyInjected || len(againWarnings) != 0 {
		t.Fatalf("second pass: %+v %q, want already-injected without warnings", againDecision, againWarnings)
	}
	if !equality.Semantic.DeepEqual(out, again) {
		t.Fatalf("second pass changed the pod (-first +second):\n%s", cmp.Diff(out, again))
	}
}

// checkOnlyAppended asserts that out is in with containers appended,
// annotations and the sidecar-version label set and pod-level requests set to the pod-level limits where
// they were unset, and nothing else: every container, init container,
// label and annotation of in is still there, unchanged and in order (the
// status annotation excepted: a re-injection rewrites it).
func checkOnlyAppended(t *testing.T, in, out *corev1.Pod) {
	t.Helper()
	for k, v := range in.Annotations {
		if got, ok := out.Annotations[k]; k != config.AnnotationStatus && (!ok || got != v) {
			t.Fatalf("annotation %q: was %q, now %q (present %v)", k, v, got, ok)
		}
	}
	for k := range out.Annotations {
		if _, ok := in.Annotations[k]; !ok && !slices.Contains(addedAnnotations, k) {
			t.Fatalf("injection added the unexpected annotation %q", k)
		}
	}
	for k, v := range in.Labels {
		if got, ok := out.Labels[k]; k != config.LabelSidecarVersion && (!ok || got != v) {
			t.Fatalf("label %q: was %q, now %q (present %v)", k, v, got, ok)
		}
	}
	for k := range out.Labels {
		if _, ok := in.Labels[k]; !ok && k != config.LabelSidecarVersion {
			t.Fatalf("injection added the unexpected label %q", k)
		}
	}
	if v := out.Labels[config.LabelSidecarVersion]; len(validation.IsValidLabelValue(v)) > 0 || v == "" {
		t.Fatalf("label %s is %q, not a non-empty label value", config.LabelSidecarVersion, v)
	}
	if len(out.Spec.Containers) < len(in.Spec.Containers) || len(out.Spec.InitContainers) < len(in.Spec.InitContainers) {
		t.Fatalf("containers were removed: %d+%d before, %d+%d after", len(in.Spec.Containers), len(in.Spec.InitContainers),
			len(out.Spec.Containers), len(out.Spec.InitContainers))
	}
	trimmed := out.DeepCopy()
	trimmed.Annotations = maps.Clone(in.Annotations)
	trimmed.Labels = maps.Clone(in.Labels)
	trimmed.Spec.Containers = trimmed.Spec.Containers[:len(in.Spec.Containers)]
	trimmed.Spec.InitContainers = trimmed.Spec.InitContainers[:len(in.Spec.InitContainers)]
	trimTunedEnv(t, in, out, trimmed)
	if r := trimmed.Spec.Resources; r != nil {
		for name, q := range r.Requests {
			if _, was := in.Spec.Resources.Requests[name]; was {
				continue
			}
			if limit := in.Spec.Resources.Limits[name]; !q.Equal(limit) {
				t.Fatalf("injection set the pod-level %s request to %s, not to its limit %s", name, q.String(), limit.String())
			}
			delete(r.Requests, name)
		}
		if len(r.Requests) == 0 && in.Spec.Resources.Requests == nil {
			r.Requests = nil
		}
	}
	if !equality.Semantic.DeepEqual(in, trimmed) {
		t.Fatalf("injection changed more than it appended (-in +out without additions):\n%s", cmp.Diff(in, trimmed))
	}
}

// trimTunedEnv removes from trimmed's app container the GOMEMLIMIT entry
// that out's status says the injector appended, after checking that it is
// the container's last env entry and that the input set none.
func trimTunedEnv(t *testing.T, in, out, trimmed *corev1.Pod) {
	t.Helper()
	st, err := ParseStatus(out.Annotations[config.AnnotationStatus])
	value, tuned := st.Tuned[config.EnvGOMEMLIMIT]
	if err != nil || !tuned {
		return
	}
	i := slices.IndexFunc(trimmed.Spec.Containers, func(c corev1.Container) bool { return c.Name == st.Target.Container })
	if i < 0 {
		t.Fatalf("the status records GOMEMLIMIT set on %q, which is not a container of the pod", st.Target.Container)
	}
	env := trimmed.Spec.Containers[i].Env
	if len(env) == 0 || env[len(env)-1] != (corev1.EnvVar{Name: config.EnvGOMEMLIMIT, Value: value}) {
		t.Fatalf("the status records GOMEMLIMIT=%s, which is not the last env entry of %q: %v", value, st.Target.Container, env)
	}
	if slices.ContainsFunc(in.Spec.Containers[i].Env, func(e corev1.EnvVar) bool { return e.Name == config.EnvGOMEMLIMIT }) {
		_, wasTuned := mustStatus(in).Tuned[config.EnvGOMEMLIMIT]
		if !wasTuned {
			t.Fatalf("the injector set GOMEMLIMIT on %q, which the user had set", st.Target.Container)
		}
		return // re-injection: the entry was there before
	}
	trimmed.Spec.Containers[i].Env = env[:len(env)-1]
	if in.Spec.Containers[i].Env == nil && len(env) == 1 {
		trimmed.Spec.Containers[i].Env = nil
	}
}

// mustStatus is the pod's status annotation, or the zero Status.
func mustStatus(pod *corev1.Pod) Status {
	st, _ := ParseStatus(pod.Annotations[config.AnnotationStatus])
	return st
}

// checkSidecar asserts that out has exactly one sidecar and that each of
// its args is one "--flag=value" element, the flag known and the value free
// of whitespace and control characters.
func checkSidecar(t *testing.T, out *corev1.Pod) {
	t.Helper()
	var sidecars []corev1.Container
	for _, c := range slices.Concat(out.Spec.Containers, out.Spec.InitContainers) {
		if c.Name == config.SidecarContainerName {
			sidecars = append(sidecars, c)
		}
	}
	if len(sidecars) != 1 {
		t.Fatalf("%d sidecar containers, want 1", len(sidecars))
	}
	for _, a := range sidecars[0].Args {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok || !strings.HasPrefix(a, "--") || !slices.Contains(sidecarFlags, name) {
			t.Fatalf("arg %q is not --<known flag>=value", a)
		}
		if strings.IndexFunc(value, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
			t.Fatalf("arg %q has whitespace, control or non-ASCII characters", a)
		}
	}
	if sidecars[0].ReadinessProbe != nil {
		t.Fatalf("the sidecar has a readiness probe; it must never gate the app's readiness")
	}
	checkSidecarPorts(t, out, &sidecars[0])
}

// checkSidecarPorts asserts that the sidecar's ports are its metrics port
// and, only with the diagnostics CA in its env and the flag in its args,
// its diagnostics port, as the status records them, on ports that no other
// container of the pod declares and the app's debug server does not use.
func checkSidecarPorts(t *testing.T, out *corev1.Pod, sidecar *corev1.Container) {
	t.Helper()
	st := mustStatus(out)
	want := []corev1.ContainerPort{{Name: config.SidecarPortName, ContainerPort: st.Port, Protocol: corev1.ProtocolTCP}}
	if st.DiagnosticsPort > 0 {
		want = append(want, corev1.ContainerPort{Name: config.SidecarDiagnosticsPortName, ContainerPort: st.DiagnosticsPort, Protocol: corev1.ProtocolTCP})
	}
	if diff := cmp.Diff(want, sidecar.Ports); diff != "" {
		t.Fatalf("the sidecar's ports differ from its status (-want +got):\n%s", diff)
	}
	caIndex := slices.IndexFunc(sidecar.Env, func(e corev1.EnvVar) bool { return e.Name == sidecarconf.EnvDiagnosticsCA })
	hasArg := slices.ContainsFunc(sidecar.Args, func(a string) bool {
		return strings.HasPrefix(a, "--"+sidecarconf.FlagDiagnosticsListenAddress+"=")
	})
	if diagnostics := st.DiagnosticsPort > 0; hasArg != diagnostics || (caIndex >= 0) != diagnostics {
		t.Fatalf("diagnostics port %d, its flag in the args %v, the CA in the env %v: all or none", st.DiagnosticsPort, hasArg, caIndex >= 0)
	}
	if caIndex >= 0 && sidecar.Env[caIndex].Value == "" {
		t.Fatalf("the sidecar's %s is empty", sidecarconf.EnvDiagnosticsCA)
	}
	for _, c := range slices.Concat(out.Spec.Containers, out.Spec.InitContainers) {
		if c.Name == config.SidecarContainerName {
			continue
		}
		for _, p := range c.Ports {
			if slices.ContainsFunc(sidecar.Ports, func(s corev1.ContainerPort) bool { return s.ContainerPort == p.ContainerPort }) {
				t.Fatalf("the sidecar listens on port %d, which container %q declares", p.ContainerPort, c.Name)
			}
		}
	}
	for _, p := range st.Target.Ports {
		if p == st.Port || p == st.DiagnosticsPort {
			t.Fatalf("the sidecar listens on port %d, the app's debug port", p)
		}
	}
}

// TestInjectPropertiesOnGoldenInputs runs every golden input through
// several configurations and namespaces, checking the properties of
// checkInjectProperties (the input pod is never modified, among others).
func TestInjectPropertiesOnGoldenInputs(t *testing.T) {
	variants := []struct {
		name string
		edit func(*config.Config)
	}{
		{"default config", func(*config.Config) {}},
		{"strict", func(c *config.Config) { c.Strict = true }},
		{"regular container", func(c *config.Config) { c.NativeSidecar = config.NativeSidecarNever }},
		{"host network allowed", func(c *config.Config) { c.AllowHostNetwork = true }},
		{"diagnostics port with a bundle", func(c *config.Config) {
			c.Sidecar.DiagnosticsPort = 9185
			c.DiagnosticsCA = testDiagnosticsCA(t)
		}},
		{"diagnostics port without a bundle", func(c *config.Config) { c.Sidecar.DiagnosticsPort = 9185 }},
	}
	namespaces := map[string]Namespace{
		"own namespace": {},
		"enabled":       {Name: "team-a", Labels: map[string]string{config.KeyInject: config.InjectEnabled}},
		"offline":       {Offline: true},
	}
	for _, c := range loadAllCases(t) {
		for _, v := range variants {
			for nsName, ns := range namespaces {
				if nsName == "own namespace" {
					ns = c.ns
				}
				t.Run(c.name+"/"+v.name+"/"+nsName, func(t *testing.T) {
					cfg := c.cfg.DeepCopy()
					v.edit(cfg)
					checkInjectProperties(t, c.pod, ns, cfg)
				})
			}
		}
	}
}

// TestReturnedPodSharesNothingWithInput overwrites every string and number
// of each returned pod and checks that the input did not change with it.
func TestReturnedPodSharesNothingWithInput(t *testing.T) {
	for _, c := range loadAllCases(t) {
		t.Run(c.name, func(t *testing.T) {
			before := c.pod.DeepCopy()
			out, _, _ := Inject(c.pod, c.ns, c.cfg)
			scribble(reflect.ValueOf(out).Elem())
			if !equality.Semantic.DeepEqual(before, c.pod) {
				t.Fatalf("writing to the returned pod changed the input (-before +after):\n%s", cmp.Diff(before, c.pod))
			}
		})
	}
}

// scribble overwrites every string and integer reachable from v, map
// values included, so that any memory shared with another object shows.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scribble(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			scribble(e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(v.String() + "-scribbled")
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		if v.CanSet() {
			v.SetInt(v.Int() + 1)
		}
	}
}
