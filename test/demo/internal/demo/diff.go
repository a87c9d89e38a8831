package demo

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// describeChanges says, line by line, what the API server stored beyond
// what was submitted: the added containers summarised, the added and
// changed annotations and labels, and what of the user's was kept. It is
// meant for a person, not a patch.
func describeChanges(submitted, stored *corev1.Pod) []string {
	var lines []string
	for _, c := range stored.Spec.Containers {
		if i := slices.IndexFunc(submitted.Spec.Containers, func(s corev1.Container) bool { return s.Name == c.Name }); i >= 0 {
			added := addedEnv(submitted.Spec.Containers[i].Env, c.Env)
			if len(added) == 0 {
				lines = append(lines, fmt.Sprintf("  container       %s (%s)  unchanged", c.Name, c.Image))
				continue
			}
			lines = append(lines, fmt.Sprintf("  container       %s (%s)", c.Name, c.Image))
			for _, e := range added {
				lines = append(lines, fmt.Sprintf("+ env             %s  (on %s)", e, c.Name))
			}
		} else {
			lines = append(lines, "+ container       "+c.Name)
			lines = append(lines, describeContainer(c)...)
		}
	}
	for _, c := range stored.Spec.InitContainers {
		if hasContainer(submitted.Spec.InitContainers, c.Name) {
			continue
		}
		kind := "init container  "
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			kind = "native sidecar  "
		}
		lines = append(lines, "+ "+kind+c.Name+"  (an init container with restartPolicy: Always)")
		lines = append(lines, describeContainer(c)...)
	}
	lines = append(lines, describeMap("annotation", submitted.Annotations, stored.Annotations)...)
	lines = append(lines, describeMap("label", submitted.Labels, stored.Labels)...)
	return lines
}

// describeContainer summarises an added container in a few lines.
func describeContainer(c corev1.Container) []string {
	const indent = "                      "
	field := func(name, value string) string { return fmt.Sprintf("%s%-10s %s", indent, name, value) }
	lines := []string{field("image", c.Image)}
	lines = append(lines, wrap(indent+fmt.Sprintf("%-10s ", "args"), c.Args, 100)...)
	var env []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			env = append(env, fmt.Sprintf("%s=(%s)", e.Name, e.ValueFrom.FieldRef.FieldPath))
		case e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil:
			env = append(env, fmt.Sprintf("%s=(%s)", e.Name, e.ValueFrom.ResourceFieldRef.Resource))
		case e.ValueFrom != nil:
			env = append(env, e.Name+"=(from a reference)")
		default:
			env = append(env, e.Name+"="+e.Value)
		}
	}
	lines = append(lines, wrap(indent+fmt.Sprintf("%-10s ", "env"), env, 100)...)
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, fmt.Sprintf("%s %d/%s", p.Name, p.ContainerPort, p.Protocol))
	}
	lines = append(lines, field("ports", strings.Join(ports, ", ")))
	r := c.Resources
	lines = append(lines, field("resources", fmt.Sprintf("requests cpu %s memory %s, limits cpu %s memory %s",
		r.Requests.Cpu(), r.Requests.Memory(), r.Limits.Cpu(), r.Limits.Memory())))
	if p := c.StartupProbe; p != nil && p.HTTPGet != nil {
		lines = append(lines, field("probes", fmt.Sprintf("startup and liveness GET %s on %s", p.HTTPGet.Path, p.HTTPGet.Port.String())))
	}
	if sc := c.SecurityContext; sc != nil {
		var s []string
		if sc.RunAsUser != nil {
			s = append(s, fmt.Sprintf("uid %d", *sc.RunAsUser))
		}
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot {
			s = append(s, "non-root")
		}
		if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
			s = append(s, "read-only root filesystem")
		}
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			s = append(s, "no privilege escalation")
		}
		if sc.Capabilities != nil && len(sc.Capabilities.Drop) > 0 {
			s = append(s, fmt.Sprintf("capabilities dropped: %v", sc.Capabilities.Drop))
		}
		lines = append(lines, field("security", strings.Join(s, ", ")))
	}
	return lines
}

// describeMap lists added and changed keys (with "+" and "~") and the
// user's keys that were kept.
func describeMap(what string, submitted, stored map[string]string) []string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(stored)) {
		old, had := submitted[k]
		switch {
		case !had:
			lines = append(lines, fmt.Sprintf("+ %-15s %s: %s", what, k, stored[k]))
		case old != stored[k]:
			lines = append(lines, fmt.Sprintf("~ %-15s %s: %s (you wrote %s)", what, k, stored[k], old))
		case what == "annotation":
			lines = append(lines, fmt.Sprintf("  %-15s %s: %s  yours, kept", what, k, stored[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(submitted)) {
		if _, ok := stored[k]; !ok {
			lines = append(lines, fmt.Sprintf("- %-15s %s (removed!)", what, k))
		}
	}
	return lines
}

// wrap joins words after prefix into lines of at most width characters,
// continuing lines aligned under the first word.
func wrap(prefix string, words []string, width int) []string {
	var lines []string
	line := prefix
	for i, w := range words {
		if i > 0 && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = strings.Repeat(" ", len(prefix)) + w
			continue
		}
		if i > 0 {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// addedEnv lists the variables of stored that submitted does not have, as
// NAME=value.
func addedEnv(submitted, stored []corev1.EnvVar) []string {
	var added []string
	for _, e := range stored {
		if !slices.ContainsFunc(submitted, func(s corev1.EnvVar) bool { return s.Name == e.Name }) {
			added = append(added, e.Name+"="+e.Value)
		}
	}
	return added
}

func hasContainer(cs []corev1.Container, name string) bool {
	return slices.ContainsFunc(cs, func(c corev1.Container) bool { return c.Name == name })
}
