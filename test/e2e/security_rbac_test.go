//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gopherscope/gopherscope/test/localcluster"
)

// grant is one permission the chart gives its ServiceAccount, and why. It
// is the table of SECURITY.md ("RBAC"): keep both in step.
type grant struct {
	// scope is "cluster" (a ClusterRole bound cluster-wide), "release" (a
	// Role in the release's namespace), "kube-system" (a Role there) or
	// "bound" (a ClusterRole the chart binds nowhere: granted only in the
	// namespaces whose own RoleBinding binds it).
	scope string
	// group, resource and name (a resourceName, "" for any) say what.
	group, resource, name string
	// verbs are the verbs granted on it.
	verbs []string
	// reason says what needs it.
	reason string
}

// The grants, by what turns them on.
var (
	grantsWebhook = []grant{
		{scope: "cluster", resource: "namespaces", verbs: []string{"get", "list", "watch"}, reason: "the webhook reads namespace labels (the opt-in) through a watch-backed cache"},
		{scope: "cluster", resource: "limitranges", verbs: []string{"list", "watch"}, reason: "the webhook reads a namespace's LimitRanges through a watch-backed cache, so that the injected pod stays within them"},
		{scope: "cluster", resource: "nodes", verbs: []string{"list", "watch"}, reason: "on API servers 1.29 to 1.31, the webhook reads the nodes' kubelet versions (a cache that keeps nothing else) to choose native sidecars"},
	}
	grantsAuditor = []grant{
		{scope: "cluster", resource: "pods", verbs: []string{"get", "list", "watch"}, reason: "the auditor watches pods in opted-in namespaces and reads the ones that may lack the sidecar"},
		{scope: "cluster", resource: "events", verbs: []string{"create", "patch"}, reason: "the auditor records SidecarMissing Events (core API; patch: repeats are aggregated)"},
		{scope: "cluster", group: "events.k8s.io", resource: "events", verbs: []string{"create", "patch"}, reason: "the same Events through the events.k8s.io API"},
		{scope: "cluster", group: "apps", resource: "replicasets", verbs: []string{"get"}, reason: "the auditor walks a ReplicaSet's pod up to its Deployment, the object a person acts on"},
		{scope: "cluster", group: "batch", resource: "jobs", verbs: []string{"get"}, reason: "the same from a Job's pod up to its CronJob"},
	}
	grantsLeaderElection = []grant{
		{scope: "release", group: "coordination.k8s.io", resource: "leases", verbs: []string{"create"}, reason: "the first replica creates the auditor's election Lease (create cannot be limited to a name)"},
		{scope: "release", group: "coordination.k8s.io", resource: "leases", name: localcluster.DefaultRelease + "-auditor", verbs: []string{"get", "update"}, reason: "the replicas read and renew that Lease, and no other"},
	}
	grantsTLSSelf = []grant{
		{scope: "release", resource: "secrets", name: localcluster.DefaultRelease + "-self-tls", verbs: []string{"list", "watch", "update"}, reason: "the webhook keeps its CA and serving certificate in this Secret and renews them (its list and watch select the Secret by name)"},
		{scope: "cluster", group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations", name: localcluster.DefaultRelease, verbs: []string{"list", "watch", "update"}, reason: "it keeps its own webhook configuration's caBundle equal to that CA"},
		{scope: "cluster", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: localcluster.DefaultRelease, verbs: []string{"list", "watch", "update"}, reason: "the same for the workload validator's configuration"},
	}
	grantsDiagnosticsCA = []grant{
		{scope: "release", resource: "configmaps", name: diagnosticsCA, verbs: []string{"get"}, reason: "the webhook reads the diagnostics server's public CA bundle, which it writes into every injected pod, and no other ConfigMap"},
	}
	grantsRolloutRestart = []grant{
		{scope: "bound", resource: "pods/eviction", verbs: []string{"create"}, reason: "evict an uninjected pod of a Deployment, ReplicaSet, StatefulSet or DaemonSet (PodDisruptionBudgets apply) so that it is re-created with the sidecar; the ClusterRole `<fullname>-restart` is granted only where a namespace's own RoleBinding binds it"},
	}
)

// diagnosticsCA is the diagnostics server's CA Secret and bundle ConfigMap
// (one name, two kinds).
const diagnosticsCA = localcluster.DefaultRelease + "-diagnostics-ca"

// grantsDiagnostics are what the diagnostics server's own ServiceAccount
// gets (diagnostics.enabled, the default). It is the second table of
// SECURITY.md ("RBAC").
var grantsDiagnostics = []grant{
	{scope: "cluster", resource: "pods", verbs: []string{"get"}, reason: "it reads a pod (address, injection status) before it calls the pod's sidecar"},
	{scope: "cluster", group: "apiregistration.k8s.io", resource: "apiservices", name: "v1alpha1.diagnostics.gopherscope.io", verbs: []string{"get", "update", "patch"}, reason: "it keeps its own APIService's caBundle equal to its roots"},
	{scope: "release", resource: "secrets", name: diagnosticsCA, verbs: []string{"get", "update"}, reason: "it keeps its roots (and their keys) in this Secret, which the chart creates empty"},
	{scope: "release", resource: "configmaps", name: diagnosticsCA, verbs: []string{"get", "update"}, reason: "it publishes their public bundle in this ConfigMap, which the chart creates empty"},
	{scope: "cluster", group: "authentication.k8s.io", resource: "tokenreviews", verbs: []string{"create"}, reason: "delegated authentication (the ClusterRole system:auth-delegator)"},
	{scope: "cluster", group: "authorization.k8s.io", resource: "subjectaccessreviews", verbs: []string{"create"}, reason: "delegated authorization: RBAC on pods/stats, pods/heap, … decides each request (system:auth-delegator)"},
	{scope: "kube-system", resource: "configmaps", name: "extension-apiserver-authentication", verbs: []string{"get", "list", "watch"}, reason: "the API server's request-header client CA, which proves a request comes through it (the Role extension-apiserver-authentication-reader)"},
}

// rbacCombinations are the values that change what the chart grants: to
// the webhook's ServiceAccount (grants) and to the diagnostics server's
// (diagnostics).
var rbacCombinations = []struct {
	name        string
	set         map[string]string
	grants      [][]grant
	diagnostics []grant
}{
	{name: "the defaults: the auditor on, two replicas electing it",
		set:         map[string]string{"rbac.create": "true", "auditor.enabled": "true", "auditor.rolloutRestart": "false", "replicaCount": "2", "diagnostics.enabled": "true"},
		grants:      [][]grant{grantsWebhook, grantsAuditor, grantsLeaderElection, grantsDiagnosticsCA},
		diagnostics: grantsDiagnostics},
	{name: "auditor.rolloutRestart adds evicting pods, only where a namespace binds its role",
		set:         map[string]string{"auditor.rolloutRestart": "true"},
		grants:      [][]grant{grantsWebhook, grantsAuditor, grantsLeaderElection, grantsRolloutRestart, grantsDiagnosticsCA},
		diagnostics: grantsDiagnostics},
	{name: "one replica needs no election",
		set:         map[string]string{"auditor.rolloutRestart": "false", "replicaCount": "1"},
		grants:      [][]grant{grantsWebhook, grantsAuditor, grantsDiagnosticsCA},
		diagnostics: grantsDiagnostics},
	{name: "without the auditor the webhook only reads namespaces, LimitRanges, nodes and the diagnostics CA bundle",
		set:         map[string]string{"auditor.enabled": "false", "replicaCount": "2"},
		grants:      [][]grant{grantsWebhook, grantsDiagnosticsCA},
		diagnostics: grantsDiagnostics},
	{name: "tls.mode=self adds its Secret and its webhook configurations, by name",
		set:         map[string]string{"tls.mode": "self"},
		grants:      [][]grant{grantsWebhook, grantsTLSSelf, grantsDiagnosticsCA},
		diagnostics: grantsDiagnostics},
	{name: "diagnostics.enabled=false grants the diagnostics server nothing and the webhook no ConfigMap",
		set:    map[string]string{"diagnostics.enabled": "false"},
		grants: [][]grant{grantsWebhook, grantsTLSSelf}},
	{name: "rbac.create=false grants nothing",
		set:    map[string]string{"auditor.enabled": "true", "rbac.create": "false", "diagnostics.enabled": "true"},
		grants: nil},
}

// testRBACLeastPrivilege upgrades the release through every combination and
// asks the API server's authorizer (SelfSubjectRulesReview, as each of the
// chart's ServiceAccounts: the webhook's and the diagnostics server's) what
// that account may do, in the release's namespace, in kube-system and in
// another one, beyond what any ServiceAccount may do. Any permission not in
// the tables, or missing from them, fails.
func testRBACLeastPrivilege(t *testing.T, e *env) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	if table := rbacTable(); !strings.Contains(string(doc), table) {
		t.Errorf("SECURITY.md lacks the RBAC table of this test; put this in its RBAC section:\n%s", table)
	}
	if table := diagnosticsRBACTable(); !strings.Contains(string(doc), table) {
		t.Errorf("SECURITY.md lacks the diagnostics server's RBAC table of this test; put this in its RBAC section:\n%s", table)
	}
	other := e.namespace(t, "rbac-elsewhere", nil)
	// As a namespace's admin opts in to evictions (one line of kubectl).
	if _, err := e.client.RbacV1().RoleBindings(other).Create(t.Context(), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "gopherscope-restart"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: localcluster.DefaultRelease + "-restart"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: localcluster.DefaultRelease, Namespace: e.release.Namespace}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range rbacCombinations {
		t.Run(c.name, func(t *testing.T) {
			if err := e.release.Upgrade(t.Context(), c.set); err != nil {
				t.Fatal(err)
			}
			namespaces := []string{e.release.Namespace, "kube-system", other}
			for _, account := range []struct {
				name   string
				grants []grant
			}{
				{localcluster.DefaultRelease, slices.Concat(c.grants...)},
				{localcluster.DefaultRelease + "-diagnostics", c.diagnostics},
			} {
				want := map[string][]string{}
				for _, g := range account.grants {
					for _, ns := range namespaces {
						if g.scope == "cluster" || (g.scope == "release" && ns == e.release.Namespace) ||
							(g.scope == "kube-system" && ns == "kube-system") || (g.scope == "bound" && ns == other) {
							want[ns] = append(want[ns], permissions(g.group, g.resource, g.name, g.verbs)...)
						}
					}
				}
				var got map[string][]string
				deadline := time.Now().Add(20 * time.Second) // RBAC reaches the authorizer through informers
				for {
					got = map[string][]string{}
					for _, ns := range namespaces {
						if extra := grantedBeyondBaseline(t, e, account.name, ns); len(extra) > 0 {
							got[ns] = extra
						}
					}
					if cmp.Equal(sortedCopy(want), got) || time.Now().After(deadline) {
						break
					}
					time.Sleep(300 * time.Millisecond)
				}
				if diff := cmp.Diff(sortedCopy(want), got); diff != "" {
					t.Errorf("what the ServiceAccount %s may do beyond any ServiceAccount, by namespace (-table +authorizer):\n%s", account.name, diff)
				}
			}
		})
	}
}

// grantedBeyondBaseline lists "verb group/resource[/name]" the ServiceAccount
// account of the release's namespace may do in ns and a ServiceAccount
// without bindings may not.
func grantedBeyondBaseline(t *testing.T, e *env, account, ns string) []string {
	t.Helper()
	sa := rulesOf(t, e, "system:serviceaccount:"+e.release.Namespace+":"+account, ns)
	baseline := rulesOf(t, e, "system:serviceaccount:"+e.release.Namespace+":rbac-baseline", ns)
	var extra []string
	for _, p := range sa {
		if !slices.Contains(baseline, p) {
			extra = append(extra, p)
		}
	}
	slices.Sort(extra)
	return extra
}

// rulesOf asks the authorizer, as user, what it may do in ns.
func rulesOf(t *testing.T, e *env, user, ns string) []string {
	t.Helper()
	cfg := e.cluster.Config()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := client.AuthorizationV1().SelfSubjectRulesReviews().Create(t.Context(),
		&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("rules of %s in %s: %v", user, ns, err)
	}
	if review.Status.Incomplete {
		t.Fatalf("rules of %s in %s are incomplete: %s", user, ns, review.Status.EvaluationError)
	}
	var out []string
	for _, r := range review.Status.ResourceRules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				names := r.ResourceNames
				if len(names) == 0 {
					names = []string{""}
				}
				for _, n := range names {
					out = append(out, permissions(g, res, n, r.Verbs)...)
				}
			}
		}
	}
	for _, r := range review.Status.NonResourceRules {
		for _, u := range r.NonResourceURLs {
			for _, v := range r.Verbs {
				out = append(out, v+" url "+u)
			}
		}
	}
	return out
}

// permissions renders one "verb group/resource[/name]" per verb.
func permissions(group, resource, name string, verbs []string) []string {
	what := cmpOr(group, "core") + "/" + resource
	if name != "" {
		what += "/" + name
	}
	out := make([]string, 0, len(verbs))
	for _, v := range verbs {
		out = append(out, v+" "+what)
	}
	return out
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func sortedCopy(m map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		s := slices.Clone(v)
		slices.Sort(s)
		out[k] = slices.Compact(s)
	}
	return out
}

// rbacTable renders the grants as the Markdown table of SECURITY.md.
func rbacTable() string {
	var b strings.Builder
	b.WriteString("| when | scope | API group | resource | name | verbs | why |\n|---|---|---|---|---|---|---|\n")
	for _, part := range []struct {
		when   string
		grants []grant
	}{
		{"always (rbac.create)", grantsWebhook}, {"auditor.enabled (default)", grantsAuditor},
		{"auditor.enabled and replicaCount > 1 (default)", grantsLeaderElection}, {"tls.mode=self (default)", grantsTLSSelf},
		{"diagnostics.enabled (default)", grantsDiagnosticsCA},
		{"auditor.rolloutRestart, in namespaces you bind it", grantsRolloutRestart},
	} {
		for _, g := range part.grants {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", part.when, g.scope, cmpOr(g.group, "core"), g.resource, cmpOr(g.name, "any"), strings.Join(g.verbs, ", "), g.reason)
		}
	}
	return b.String()
}

// diagnosticsRBACTable renders the diagnostics server's grants as the second
// Markdown table of SECURITY.md.
func diagnosticsRBACTable() string {
	var b strings.Builder
	b.WriteString("| scope | API group | resource | name | verbs | why |\n|---|---|---|---|---|---|\n")
	for _, g := range grantsDiagnostics {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", g.scope, cmpOr(g.group, "core"), g.resource, cmpOr(g.name, "any"), strings.Join(g.verbs, ", "), g.reason)
	}
	return b.String()
}
