package chart_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gopherscope/gopherscope/test/chart"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Names of the diagnostics server's objects in the test release.
const (
	diagnosticsName = fullname + "-diagnostics"
	diagnosticsCA   = fullname + "-diagnostics-ca"
	apiServiceName  = "v1alpha1.diagnostics.gopherscope.io"
)

// aggregationLabels are the labels that fold a ClusterRole into the built-in user roles.
var aggregationLabels = []string{
	"rbac.authorization.k8s.io/aggregate-to-view",
	"rbac.authorization.k8s.io/aggregate-to-edit",
	"rbac.authorization.k8s.io/aggregate-to-admin",
}

// roleGrant is what one binding gives a subject: the binding's namespace ("" for a
// ClusterRoleBinding), its role and, for roles the chart renders, their rules.
type roleGrant struct {
	Namespace string
	Role      rbacv1.RoleRef
	Rules     []rbacv1.PolicyRule
}

// grantsTo lists every grant of the manifest to the ServiceAccount name in the release
// namespace, with the rules of the roles the chart renders (nil for the built-in ones).
func grantsTo(m *chart.Manifest, name string) []roleGrant {
	subject := rbacv1.Subject{Kind: "ServiceAccount", Name: name, Namespace: namespace}
	clusterRules := map[string][]rbacv1.PolicyRule{}
	for _, r := range chart.All[*rbacv1.ClusterRole](m) {
		clusterRules[r.Name] = r.Rules
	}
	roleRules := map[string][]rbacv1.PolicyRule{}
	for _, r := range chart.All[*rbacv1.Role](m) {
		roleRules[r.Namespace+"/"+r.Name] = r.Rules
	}
	var out []roleGrant
	for _, b := range chart.All[*rbacv1.ClusterRoleBinding](m) {
		for _, s := range b.Subjects {
			if s == subject {
				out = append(out, roleGrant{Role: b.RoleRef, Rules: clusterRules[b.RoleRef.Name]})
			}
		}
	}
	for _, b := range chart.All[*rbacv1.RoleBinding](m) {
		for _, s := range b.Subjects {
			if s != subject {
				continue
			}
			rules := clusterRules[b.RoleRef.Name]
			if b.RoleRef.Kind == "Role" {
				rules = roleRules[b.Namespace+"/"+b.RoleRef.Name]
			}
			out = append(out, roleGrant{Namespace: b.Namespace, Role: b.RoleRef, Rules: rules})
		}
	}
	return out
}

func TestDiagnosticsServerIsGrantedExactlyWhatItNeeds(t *testing.T) {
	m := render(t, nil)
	clusterRole := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
	}
	role := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}
	}
	want := []roleGrant{
		{Role: clusterRole(diagnosticsName), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
			{APIGroups: []string{"apiregistration.k8s.io"}, Resources: []string{"apiservices"}, ResourceNames: []string{apiServiceName}, Verbs: []string{"get", "update", "patch"}},
		}},
		// Delegated authentication and authorization: Kubernetes' own roles.
		{Role: clusterRole("system:auth-delegator")},
		{Namespace: "kube-system", Role: role("extension-apiserver-authentication-reader")},
		{Namespace: namespace, Role: role(diagnosticsName), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{diagnosticsCA}, Verbs: []string{"get", "update"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{diagnosticsCA}, Verbs: []string{"get", "update"}},
		}},
	}
	if diff := cmp.Diff(want, grantsTo(m, diagnosticsName)); diff != "" {
		t.Errorf("grants to the diagnostics server's ServiceAccount (-want +got):\n%s", diff)
	}

	t.Run("the webhook may read the CA bundle's ConfigMap, and no other", func(t *testing.T) {
		var got []rbacv1.PolicyRule
		for _, g := range grantsTo(m, fullname) {
			for _, r := range g.Rules {
				if len(r.Resources) == 1 && r.Resources[0] == "configmaps" {
					if g.Namespace != namespace {
						t.Errorf("the webhook's ConfigMap grant %s is not in the release namespace", g.Role.Name)
					}
					got = append(got, r)
				}
			}
		}
		want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{diagnosticsCA}, Verbs: []string{"get"}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("the webhook's ConfigMap rules (-want +got):\n%s", diff)
		}
	})
}

func TestDiagnosticsUserRolesAggregateOnlyStats(t *testing.T) {
	stats := []rbacv1.PolicyRule{
		{APIGroups: []string{"diagnostics.gopherscope.io"}, Resources: []string{"pods/stats", "pods/history"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
	}
	profiles := []rbacv1.PolicyRule{{
		APIGroups: []string{"diagnostics.gopherscope.io"},
		Resources: []string{"pods/profile", "pods/trace", "pods/heap", "pods/allocs", "pods/goroutine", "pods/mutex", "pods/block"},
		Verbs:     []string{"get"},
	}}
	for _, tc := range []struct {
		name           string
		values         map[string]any
		statsAggregate bool
	}{
		{name: "by default stats are folded into view, edit and admin", values: nil, statsAggregate: true},
		{name: "aggregateToView=false folds neither", values: values("diagnostics.rbac.aggregateToView", false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			for _, r := range []struct {
				name      string
				rules     []rbacv1.PolicyRule
				aggregate bool
			}{
				{diagnosticsName + "-stats", stats, tc.statsAggregate},
				// Profiles and dumps can reveal data in memory: never aggregated.
				{diagnosticsName + "-profiles", profiles, false},
			} {
				role := get[*rbacv1.ClusterRole](t, m, r.name)
				if diff := cmp.Diff(r.rules, role.Rules); diff != "" {
					t.Errorf("%s rules (-want +got):\n%s", r.name, diff)
				}
				if role.AggregationRule != nil {
					t.Errorf("%s aggregates other roles: %+v", r.name, role.AggregationRule)
				}
				var got []string
				for key, v := range role.Labels {
					if strings.HasPrefix(key, "rbac.authorization.k8s.io/aggregate-to-") && v == "true" {
						got = append(got, key)
					}
				}
				var want []string
				if r.aggregate {
					want = aggregationLabels
				}
				if diff := cmp.Diff(want, got, cmpSorted); diff != "" {
					t.Errorf("%s aggregation labels (-want +got):\n%s", r.name, diff)
				}
				for _, b := range chart.All[*rbacv1.ClusterRoleBinding](m) {
					if b.RoleRef.Name == r.name {
						t.Errorf("ClusterRoleBinding %s binds %s: users' roles are bound by the cluster's admins", b.Name, r.name)
					}
				}
				for _, b := range chart.All[*rbacv1.RoleBinding](m) {
					if b.RoleRef.Name == r.name {
						t.Errorf("RoleBinding %s/%s binds %s: users' roles are bound by the cluster's admins", b.Namespace, b.Name, r.name)
					}
				}
			}
		})
	}
}

func TestDiagnosticsRBACCanBeLeftToTheUser(t *testing.T) {
	m := render(t, values("rbac.create", false))
	for _, n := range m.Names() {
		if strings.Contains(n, "Role") {
			t.Errorf("rbac.create=false still renders %s", n)
		}
	}
	if !has(m, "Deployment/"+diagnosticsName) || !has(m, "ServiceAccount/"+diagnosticsName) {
		t.Errorf("rbac.create=false drops the diagnostics server itself: %v", m.Names())
	}
}

// cmpSorted compares string slices as sets.
var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })
