package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The node's configuration files. Every directory a component writes is under
// the run directory, except the few paths the kubelet and containerd fix
// (see hostPaths).

// containerdConfig is containerd's config (version 2, containerd 1.6):
// everything under dir, CNI from Debian's plugins and our conf dir, our own
// pause image, and restrict_oom_score_adj because this machine may not lower
// a process's oom_score_adj (the kubelet asks -998 for sandboxes).
func containerdConfig(dir, cniConfDir, pauseImage string) string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[6]q
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[7]q
    conf_dir = %[8]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), containerdSocket(dir), containerdSocket(dir)+".ttrpc",
		filepath.Join(dir, "opt"), pauseImage, cniBinDir, cniConfDir)
}

// containerdSocket is containerd's gRPC socket under its directory.
func containerdSocket(dir string) string { return filepath.Join(dir, "containerd.sock") }

// cniConfig is the pod network: a bridge in the node's namespace with
// host-local addresses from PodCIDR, kept under ipamDir.
func cniConfig(ipamDir string) string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "gopherscope",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %q
      }
    }
  ]
}
`, PodCIDR, ipamDir)
}

// kubeletConfig is the kubelet's KubeletConfiguration for this machine:
// cgroup v1 through cgroupfs, no swap check, no eviction, no image garbage
// collection, no local storage isolation (the machine's disk is shared), its
// API served on the node address with certificates from the node's CA.
func kubeletConfig(pki *nodePKI, containerdDir, podLogsDir string) string {
	lines := []string{
		"apiVersion: kubelet.config.k8s.io/v1beta1",
		"kind: KubeletConfiguration",
		"address: 0.0.0.0",
		"readOnlyPort: 0",
		"healthzBindAddress: 127.0.0.1",
		"authentication:",
		"  anonymous: {enabled: false}",
		"  webhook: {enabled: true}",
		"  x509: {clientCAFile: " + quote(pki.path("ca.crt")) + "}",
		"authorization: {mode: Webhook}",
		"tlsCertFile: " + quote(pki.path("kubelet-serving.crt")),
		"tlsPrivateKeyFile: " + quote(pki.path("kubelet-serving.key")),
		"cgroupDriver: cgroupfs",
		"failCgroupV1: false",
		"failSwapOn: false",
		"evictionHard: {}",
		"imageGCHighThresholdPercent: 100",
		"imageGCLowThresholdPercent: 99",
		"localStorageCapacityIsolation: false",
		"serializeImagePulls: false",
		"containerRuntimeEndpoint: " + quote("unix://"+containerdSocket(containerdDir)),
		"podLogsDir: " + quote(podLogsDir),
		"clusterDomain: cluster.local",
		"resolvConf: /etc/resolv.conf",
		// Report status often, so a test sees a restart or a probe soon.
		"nodeStatusUpdateFrequency: 4s",
		"syncFrequency: 10s",
	}
	return strings.Join(lines, "\n") + "\n"
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// writeFiles writes each file (path relative to dir) under dir.
func writeFiles(dir string, files map[string]string) error {
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // the node's own config dirs
			return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
