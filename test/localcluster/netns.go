package localcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// The node's network: a namespace of its own with a bridge device that holds
// the node's address. Pods get addresses in PodCIDR through the CNI bridge and
// host-local plugins, Services ClusterIPs in ServiceCIDR. No address outside
// this namespace (and the pods' namespaces inside it) is ever used.
const (
	// NetnsName is the node's network namespace (/var/run/netns/NAME).
	NetnsName = "gopherscope-node"
	// NodeIP is the node's address, on nodeBridge in the namespace.
	NodeIP = "10.200.0.1"
	// PodCIDR is where pods get their addresses.
	PodCIDR = "10.201.0.0/24"
	// ServiceCIDR is where Services get their ClusterIPs.
	ServiceCIDR = "10.96.0.0/24"
	// APIServiceIP is the kubernetes Service's ClusterIP, the first of ServiceCIDR.
	APIServiceIP = "10.96.0.1"

	nodeBridge  = "gs-node0"
	netnsEnvVar = "GOPHERSCOPE_NETNS"
)

// InNodeNetwork reports whether this process runs inside the node's network
// namespace (entered by RunInNodeNetwork).
func InNodeNetwork() bool { return os.Getenv(netnsEnvVar) == NetnsName }

// RunInNodeNetwork runs this program again inside the node's network
// namespace, which it creates first (lo up, a bridge with NodeIP, forwarding
// on), and deletes when the program ends; it returns the program's exit code.
// Every process the program starts lives in that namespace too, so the node's
// components, its clients and the tests all see the same addresses, and
// nothing they do reaches any other network. Ctrl-C reaches the program,
// which stops in order; this parent waits for it.
func RunInNodeNetwork() (int, error) {
	if InNodeNetwork() {
		return 0, errors.New("already inside the node's network namespace")
	}
	if err := NodeSupported(); err != nil {
		return 0, err
	}
	if err := createNodeNetwork(); err != nil {
		return 0, errors.Join(err, deleteNodeNetwork())
	}
	self, err := os.Executable()
	if err != nil {
		return 0, errors.Join(fmt.Errorf("find this program: %w", err), deleteNodeNetwork())
	}
	// nsenter enters the namespace and execs the program (no fork): the child
	// is the program itself, and it dies with this parent.
	cmd := exec.Command("nsenter", append([]string{"--net=/var/run/netns/" + NetnsName, "--", self}, os.Args[1:]...)...) //nolint:gosec // this program, run again
	// Nothing in the namespace reaches the module proxy: a build there must
	// find its modules in the cache (`make e2e` and `make demo` download
	// them first), and says so at once instead of trying the network.
	cmd.Env = append(os.Environ(), netnsEnvVar+"="+NetnsName, "GOPROXY=off")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// The terminal's Ctrl-C reaches the child (same process group); this
	// parent only waits for it to stop in order.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	runErr := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(runErr, &exit):
		code = exit.ExitCode()
	case runErr != nil:
		return 0, errors.Join(fmt.Errorf("run inside the node's network namespace: %w", runErr), deleteNodeNetwork())
	}
	return code, deleteNodeNetwork()
}

// NodeSupported says why the real node cannot run on this machine, or nil.
func NodeSupported() error {
	if os.Geteuid() != 0 {
		return errors.New("the real node needs root (network namespaces, containerd, the kubelet's cgroups); run as root")
	}
	var missing []string
	for _, tool := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip", "nsenter", "iptables", "conntrack", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "loopback", "portmap"} {
		if _, err := os.Stat(cniBinDir + "/" + plugin); err != nil {
			missing = append(missing, cniBinDir+"/"+plugin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the real node needs %s (apt-get install containerd runc containernetworking-plugins iptables conntrack iproute2 util-linux)", strings.Join(missing, ", "))
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil {
		if _, err2 := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err2 != nil {
			return fmt.Errorf("the real node needs cgroups mounted under /sys/fs/cgroup: %w", err)
		}
	}
	return nil
}

// cniBinDir is where Debian's containernetworking-plugins are installed.
const cniBinDir = "/usr/lib/cni"

// createNodeNetwork creates the namespace, removing one a killed run left.
func createNodeNetwork() error {
	if err := deleteNodeNetwork(); err != nil {
		return err
	}
	in := func(args ...string) []string {
		return append([]string{"ip", "netns", "exec", NetnsName}, args...)
	}
	for _, args := range [][]string{
		{"ip", "netns", "add", NetnsName},
		in("ip", "link", "set", "lo", "up"),
		in("ip", "link", "add", nodeBridge, "type", "bridge"),
		in("ip", "addr", "add", NodeIP+"/24", "dev", nodeBridge),
		in("ip", "link", "set", nodeBridge, "up"),
		// Per-namespace sysctls: pods reach Services through the node.
		in("sysctl", "-q", "-w", "net.ipv4.ip_forward=1"),
		in("sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1"),
	} {
		if err := run(args...); err != nil {
			return fmt.Errorf("create the node's network namespace: %w", err)
		}
	}
	return nil
}

// deleteNodeNetwork deletes the node's namespace if it exists; its devices
// and iptables rules go with it.
func deleteNodeNetwork() error {
	if _, err := os.Stat("/var/run/netns/" + NetnsName); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := run("ip", "netns", "delete", NetnsName); err != nil {
		return fmt.Errorf("delete the node's network namespace: %w", err)
	}
	return nil
}

// run runs a command and returns its output in the error when it fails.
func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput() //nolint:gosec // fixed system tools
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
