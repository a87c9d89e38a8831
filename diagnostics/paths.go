package diagnostics

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	sidecardiag "github.com/gopherscope/gopherscope/sidecar/diagnostics"
)

// The API's group and version.
const (
	Group   = api.Group
	Version = api.Version

	groupPath   = "/apis/" + Group
	versionPath = api.VersionPath
)

// podResource is a pod's diagnostics resource named by a request path.
type podResource struct {
	namespace, pod, resource string
}

// parsePodResource reads versionPath/namespaces/NS/pods/POD/RESOURCE; ok is
// false for any other path, or for names Kubernetes would not accept.
func parsePodResource(path string) (podResource, bool) {
	rest, ok := strings.CutPrefix(path, versionPath+"/namespaces/")
	if !ok {
		return podResource{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || parts[1] != "pods" {
		return podResource{}, false
	}
	r := podResource{namespace: parts[0], pod: parts[2], resource: parts[3]}
	if len(validation.IsDNS1123Label(r.namespace)) > 0 || len(validation.IsDNS1123Subdomain(r.pod)) > 0 || r.resource == "" {
		return podResource{}, false
	}
	return r, true
}

// apiResources lists the resources as discovery shows them: pods/heap and
// the like, read-only.
func apiResources() *metav1.APIResourceList {
	list := &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: Group + "/" + Version,
	}
	for _, name := range sidecardiag.ResourceNames() {
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: "pods/" + name, Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get"},
		})
	}
	return list
}

// apiGroup is the group as discovery shows it.
func apiGroup() *metav1.APIGroup {
	gv := metav1.GroupVersionForDiscovery{GroupVersion: Group + "/" + Version, Version: Version}
	return &metav1.APIGroup{
		TypeMeta:         metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"},
		Name:             Group,
		Versions:         []metav1.GroupVersionForDiscovery{gv},
		PreferredVersion: gv,
	}
}
