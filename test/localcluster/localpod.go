package localcluster

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gopherscope/gopherscope/config/names"
)

// isListenAddressFlag and isPortListFlag name the flags whose value holds
// ports of the pod: a listen address (host:port) or a list of ports. RunPod
// maps those ports to free local ones, consistently across the pod's
// containers (they share one network namespace in Kubernetes; here they
// share 127.0.0.1).
func isListenAddressFlag(name string) bool {
	return name == names.FlagListenAddress || name == "debug-address" || name == "address"
}

func isPortListFlag(name string) bool { return name == names.FlagTargetPorts }

// PodOptions say which local binary plays which container of a pod.
type PodOptions struct {
	// Pod is the pod as stored by the API server.
	Pod *corev1.Pod
	// Binaries maps container names (app or init containers) to local
	// binaries; only those containers run.
	Binaries map[string]string
	// LogDir receives one log file per container (POD-CONTAINER.log).
	LogDir string
	// PreferPodPorts plays each pod port on the same local port when it is
	// free (stable URLs for a person), else on a free one.
	PreferPodPorts bool
}

// Pod is a stored pod's containers running as local processes with the
// args and env of their container specs. Ports of the pod are mapped to
// free ports on 127.0.0.1, so two pods (or a pod and a real service on the
// machine) never collide.
type Pod struct {
	// Processes are the running containers, by container name.
	Processes map[string]*Process
	// Args are the translated arguments each container runs with.
	Args map[string][]string
	// Env is the resolved environment of each container.
	Env map[string][]string

	ports          map[int]int
	preferPodPorts bool
	order          []string // start order; stopped in reverse
}

// RunPod starts the containers opts.Binaries names: the regular containers
// first, then native sidecars (init containers with restartPolicy Always),
// so the sidecar finds its target at once. Arguments of the form
// `--flag=value` are passed as written, except listen addresses
// (--listen-address, --debug-address, --address) and port lists
// (--target-ports), whose ports are mapped to local ones. Env values and the
// downward-API fields metadata.name, metadata.namespace, metadata.uid and
// status.podIP are resolved; other sources are refused.
func RunPod(opts PodOptions) (*Pod, error) {
	p := &Pod{Processes: map[string]*Process{}, Args: map[string][]string{}, Env: map[string][]string{}, ports: map[int]int{}, preferPodPorts: opts.PreferPodPorts}
	var containers []corev1.Container
	containers = append(containers, opts.Pod.Spec.Containers...)
	for _, c := range opts.Pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			containers = append(containers, c)
		}
	}
	for name := range opts.Binaries {
		if !slices.ContainsFunc(containers, func(c corev1.Container) bool { return c.Name == name }) {
			return nil, fmt.Errorf("pod %s/%s has no container or native sidecar %q", opts.Pod.Namespace, opts.Pod.Name, name)
		}
	}
	for _, c := range containers {
		binary, ok := opts.Binaries[c.Name]
		if !ok {
			continue
		}
		args, err := p.translateArgs(c.Args)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("container %s: %w", c.Name, err), p.Stop())
		}
		env, err := resolveEnv(opts.Pod, c.Env)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("container %s: %w", c.Name, err), p.Stop())
		}
		proc, err := StartProcess(ProcessOptions{Name: opts.Pod.Name + "-" + c.Name, Path: binary, Args: args, Env: env, LogDir: opts.LogDir})
		if err != nil {
			return nil, errors.Join(err, p.Stop())
		}
		p.Processes[c.Name], p.Args[c.Name], p.Env[c.Name] = proc, args, env
		p.order = append(p.order, c.Name)
	}
	return p, nil
}

// LocalPort is the local port that plays the pod's port, or 0 if no
// container listens on it.
func (p *Pod) LocalPort(podPort int) int { return p.ports[podPort] }

// URL is http://127.0.0.1:LOCAL followed by path, where LOCAL plays podPort.
func (p *Pod) URL(podPort int, path string) string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.ports[podPort])) + path
}

// Stop stops the containers in reverse start order.
func (p *Pod) Stop() error {
	var errs []error
	for _, name := range slices.Backward(p.order) {
		errs = append(errs, p.Processes[name].Stop())
	}
	return errors.Join(errs...)
}

// translateArgs maps the ports in listen-address and port-list flags.
func (p *Pod) translateArgs(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, arg := range args {
		name, value, ok := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		switch {
		case !ok || !strings.HasPrefix(arg, "-"):
			out = append(out, arg)
		case isListenAddressFlag(name):
			_, port, err := net.SplitHostPort(value)
			if err != nil {
				return nil, fmt.Errorf("flag --%s=%s: want host:port: %w", name, value, err)
			}
			local, err := p.localPort(port)
			if err != nil {
				return nil, fmt.Errorf("flag --%s: %w", name, err)
			}
			out = append(out, fmt.Sprintf("--%s=127.0.0.1:%d", name, local))
		case isPortListFlag(name):
			var locals []string
			for port := range strings.SplitSeq(value, ",") {
				local, err := p.localPort(port)
				if err != nil {
					return nil, fmt.Errorf("flag --%s: %w", name, err)
				}
				locals = append(locals, strconv.Itoa(local))
			}
			out = append(out, fmt.Sprintf("--%s=%s", name, strings.Join(locals, ",")))
		default:
			out = append(out, arg)
		}
	}
	return out, nil
}

// localPort returns the local port that plays the pod port, allocating it
// on first use.
func (p *Pod) localPort(podPort string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(podPort))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port", podPort)
	}
	if local, ok := p.ports[n]; ok {
		return local, nil
	}
	taken := slices.Collect(maps.Values(p.ports))
	if p.preferPodPorts && !slices.Contains(taken, n) && portFree(n) {
		p.ports[n] = n
		return n, nil
	}
	for range 10 {
		local, err := FreePort()
		if err != nil {
			return 0, err
		}
		if !slices.Contains(taken, local) {
			p.ports[n] = local
			return local, nil
		}
	}
	return 0, fmt.Errorf("no free local port for pod port %d", n)
}

// portFree reports whether 127.0.0.1:port can be listened on now.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

// resolveEnv renders a container's env as NAME=value, resolving the
// downward-API fields a local process can know.
func resolveEnv(pod *corev1.Pod, vars []corev1.EnvVar) ([]string, error) {
	env := make([]string, 0, len(vars))
	for _, v := range vars {
		switch {
		case v.ValueFrom == nil:
			env = append(env, v.Name+"="+v.Value)
		case v.ValueFrom.FieldRef != nil:
			var value string
			switch v.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				value = pod.Name
			case "metadata.namespace":
				value = pod.Namespace
			case "metadata.uid":
				value = string(pod.UID)
			case "status.podIP":
				value = "127.0.0.1"
			default:
				return nil, fmt.Errorf("env %s: field %q is not available to a local process", v.Name, v.ValueFrom.FieldRef.FieldPath)
			}
			env = append(env, v.Name+"="+value)
		case v.ValueFrom.ResourceFieldRef != nil:
			value, err := resourceValue(pod, v.ValueFrom.ResourceFieldRef)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", v.Name, err)
			}
			env = append(env, v.Name+"="+value)
		default:
			return nil, fmt.Errorf("env %s: only values, fieldRefs and resourceFieldRefs can be resolved locally", v.Name)
		}
	}
	return env, nil
}

// resourceValue resolves a resourceFieldRef as the kubelet does when the
// container sets the resource: its quantity divided by the divisor, rounded
// up. A resource the container leaves unset (the kubelet would give the
// node's allocatable) cannot be known locally.
func resourceValue(pod *corev1.Pod, ref *corev1.ResourceFieldSelector) (string, error) {
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		if c.Name != ref.ContainerName {
			continue
		}
		kind, name, _ := strings.Cut(ref.Resource, ".")
		list := map[string]corev1.ResourceList{"limits": c.Resources.Limits, "requests": c.Resources.Requests}[kind]
		q, ok := list[corev1.ResourceName(name)]
		if !ok {
			return "", fmt.Errorf("%s of container %s is not set, and a local process has no node to take it from", ref.Resource, c.Name)
		}
		divisor := ref.Divisor
		if divisor.IsZero() {
			divisor = resource.MustParse("1")
		}
		return strconv.FormatInt((q.MilliValue()+divisor.MilliValue()-1)/divisor.MilliValue(), 10), nil
	}
	return "", fmt.Errorf("resourceFieldRef to an unknown container %q", ref.ContainerName)
}
