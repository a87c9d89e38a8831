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
	// Role in the release's namespace) or "bound" (a ClusterRole the chart
	// binds nowhere: granted only in the namespaces whose own RoleBinding
	// binds it).
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
	grantsRolloutRestart = []grant{
		{scope: "bound", resource: "pods/eviction", verbs: []string{"create"}, reason: "evict an uninjected pod of a Deployment, ReplicaSet, StatefulSet or DaemonSet (PodDisruptionBudgets apply) so that it is re-created with the sidecar; the ClusterRole `<fullname>-restart` is granted only where a namespace's own RoleBinding binds it"},
	}
)

// rbacCombinations are the values that change what the chart grants.
var rbacCombinations = []struct {
	name   string
	set    map[string]string
	grants [][]grant
}{
	{name: "the defaults: the auditor on, two replicas electing it",
		set:    map[string]string{"rbac.create": "true", "auditor.enabled": "true", "auditor.rolloutRestart": "false", "replicaCount": "2"},
		grants: [][]grant{grantsWebhook, grantsAuditor, grantsLeaderElection}},
	{name: "auditor.rolloutRestart adds evicting pods, only where a namespace binds its role",
		set:    map[string]string{"auditor.rolloutRestart": "true"},
		grants: [][]grant{grantsWebhook, grantsAuditor, grantsLeaderElection, grantsRolloutRestart}},
	{name: "one replica needs no election",
		set:    map[string]string{"auditor.rolloutRestart": "false", "replicaCount": "1"},
		grants: [][]grant{grantsWebhook, grantsAuditor}},
	{name: "without the auditor the webhook only reads namespaces, LimitRanges and nodes",
		set:    map[string]string{"auditor.enabled": "false", "replicaCount": "2"},
		grants: [][]grant{grantsWebhook}},
	{name: "tls.mode=self adds its Secret and its webhook configurations, by name",
		set:    map[string]string{"tls.mode": "self"},
		grants: [][]grant{grantsWebhook, grantsTLSSelf}},
	{name: "rbac.create=false grants nothing",
		set:    map[string]string{"auditor.enabled": "true", "rbac.create": "false"},
		grants: nil},
}

// testRBACLeastPrivilege upgrades the release through every combination and
// asks the API server's authorizer (SelfSubjectRulesReview, as the chart's
// ServiceAccount) what that account may do, in the release's namespace and
// in another one, beyond what any ServiceAccount may do. Any permission not
// in the table, or missing from it, fails.
func testRBACLeastPrivilege(t *testing.T, e *env) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	if table := rbacTable(); !strings.Contains(string(doc), table) {
		t.Errorf("SECURITY.md lacks the RBAC table of this test; put this in its RBAC section:\n%s", table)
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
			want := map[string][]string{}
			for _, g := range slices.Concat(c.grants...) {
				for _, ns := range []string{e.release.Namespace, other} {
					if g.scope == "cluster" || (g.scope == "release" && ns == e.release.Namespace) || (g.scope == "bound" && ns == other) {
						want[ns] = append(want[ns], permissions(g.group, g.resource, g.name, g.verbs)...)
					}
				}
			}
			var got map[string][]string
			deadline := time.Now().Add(20 * time.Second) // RBAC reaches the authorizer through informers
			for {
				got = map[string][]string{}
				for _, ns := range []string{e.release.Namespace, other} {
					if extra := grantedBeyondBaseline(t, e, ns); len(extra) > 0 {
						got[ns] = extra
					}
				}
				if cmp.Equal(sortedCopy(want), got) || time.Now().After(deadline) {
					break
				}
				time.Sleep(300 * time.Millisecond)
			}
			if diff := cmp.Diff(sortedCopy(want), got); diff != "" {
				t.Errorf("what the chart's ServiceAccount may do beyond any ServiceAccount, by namespace (-table +authorizer):\n%s", diff)
			}
		})
	}
}

// grantedBeyondBaseline lists "verb group/resource[/name]" the chart's
// ServiceAccount may do in ns and a ServiceAccount without bindings may not.
func grantedBeyondBaseline(t *testing.T, e *env, ns string) []string {
	t.Helper()
	sa := rulesOf(t, e, "system:serviceaccount:"+e.release.Namespace+":"+localcluster.DefaultRelease, ns)
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
		{"auditor.rolloutRestart, in namespaces you bind it", grantsRolloutRestart},
	} {
		for _, g := range part.grants {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", part.when, g.scope, cmpOr(g.group, "core"), g.resource, cmpOr(g.name, "any"), strings.Join(g.verbs, ", "), g.reason)
		}
	}
	return b.String()
}
