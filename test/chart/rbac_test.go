package chart_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

func TestRBACIsLeastPrivilege(t *testing.T) {
	namespaces := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}}
	tests := []struct {
		name      string
		values    map[string]any
		wantRules []rbacv1.PolicyRule
	}{
		{name: "the webhook only reads namespaces", values: nil, wantRules: []rbacv1.PolicyRule{namespaces}},
		{
			name:   "the auditor hook adds reading pods and recording events",
			values: values("auditor.enabled", true),
			wantRules: []rbacv1.PolicyRule{
				namespaces,
				{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			role := get[*rbacv1.ClusterRole](t, m, fullname)
			if diff := cmp.Diff(tc.wantRules, role.Rules); diff != "" {
				t.Errorf("ClusterRole rules (-want +got):\n%s", diff)
			}
			binding := get[*rbacv1.ClusterRoleBinding](t, m, fullname)
			wantRef := rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: fullname}
			wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: fullname, Namespace: namespace}}
			if diff := cmp.Diff(wantRef, binding.RoleRef); diff != "" {
				t.Errorf("roleRef (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantSubjects, binding.Subjects); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
			if n := len(chart.All[*rbacv1.Role](m)) + len(chart.All[*rbacv1.RoleBinding](m)); n != 0 {
				t.Errorf("the chart renders %d namespaced Roles or RoleBindings, want none", n)
			}
		})
	}
}

func TestRBACAndServiceAccountCanBeLeftToTheUser(t *testing.T) {
	m := render(t, values("rbac.create", false, "serviceAccount.create", false, "serviceAccount.name", "mine"))
	if n := len(chart.All[*rbacv1.ClusterRole](m)) + len(chart.All[*rbacv1.ClusterRoleBinding](m)); n != 0 {
		t.Errorf("rbac.create=false still renders %d RBAC objects", n)
	}
	if has(m, "ServiceAccount/mine") || has(m, "ServiceAccount/"+fullname) {
		t.Errorf("serviceAccount.create=false still renders a ServiceAccount: %v", m.Names())
	}
	if got := get[*appsv1.Deployment](t, m, fullname).Spec.Template.Spec.ServiceAccountName; got != "mine" {
		t.Errorf("serviceAccountName = %q, want mine", got)
	}
}
