package chart_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

func TestRBACIsLeastPrivilege(t *testing.T) {
	webhook := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"limitranges"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list", "watch"}},
	}
	auditor := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"replicasets"}, Verbs: []string{"get"}},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get"}},
	}
	auditor = append(slices.Clone(webhook), auditor...)
	lease := []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{fullname + "-auditor"}, Verbs: []string{"get", "update"}},
	}
	tests := []struct {
		name      string
		values    map[string]any
		wantRules []rbacv1.PolicyRule
		// wantLease is the rules of the leader election Role, nil for none.
		wantLease []rbacv1.PolicyRule
	}{
		{name: "without the auditor the webhook only reads namespaces, LimitRanges and nodes", values: values("auditor.enabled", false), wantRules: webhook},
		{
			name:   "the auditor (on by default) reads pods and their owners, records events, and two replicas elect it with a Lease",
			values: nil, wantRules: auditor, wantLease: lease,
		},
		{name: "a single replica runs the auditor without an election", values: values("replicaCount", 1), wantRules: auditor},
		{
			name:   "rollout restarts grant nothing more cluster-wide: their eviction role is bound by each namespace that wants it",
			values: values("auditor.rolloutRestart", true), wantRules: auditor, wantLease: lease,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The TLS mode's own grants are TestSelfManagedTLSGrantsItsSecretAndWebhookConfigurationsByName's,
			// the diagnostics ones TestDiagnosticsServerIsGrantedExactlyWhatItNeeds'.
			m := render(t, merged(values("tls.mode", "cert-manager", "diagnostics.enabled", false), tc.values))
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
			roles, bindings := chart.All[*rbacv1.Role](m), chart.All[*rbacv1.RoleBinding](m)
			if tc.wantLease == nil {
				if n := len(roles) + len(bindings); n != 0 {
					t.Errorf("the chart renders %d namespaced Roles or RoleBindings, want none", n)
				}
				return
			}
			name := fullname + "-leader-election"
			if len(roles) != 1 || len(bindings) != 1 {
				t.Fatalf("the chart renders %d Roles and %d RoleBindings, want the leader election's one of each", len(roles), len(bindings))
			}
			if roles[0].Name != name || roles[0].Namespace != namespace {
				t.Errorf("Role %s/%s, want %s/%s", roles[0].Namespace, roles[0].Name, namespace, name)
			}
			if diff := cmp.Diff(tc.wantLease, roles[0].Rules); diff != "" {
				t.Errorf("leader election Role rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}, bindings[0].RoleRef); diff != "" {
				t.Errorf("RoleBinding roleRef (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantSubjects, bindings[0].Subjects); diff != "" {
				t.Errorf("RoleBinding subjects (-want +got):\n%s", diff)
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

func TestRolloutRestartsShipAnEvictionRoleThatTheChartBindsNowhere(t *testing.T) {
	restartRole := fullname + "-restart"
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []rbacv1.PolicyRule
	}{
		{name: "off (the default): no such role", values: nil},
		{
			name: "on: create on pods/eviction, and nothing else", values: values("auditor.rolloutRestart", true),
			want: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			var got []rbacv1.PolicyRule
			for _, r := range chart.All[*rbacv1.ClusterRole](m) {
				if r.Name == restartRole {
					got = r.Rules
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ClusterRole %s rules (-want +got):\n%s", restartRole, diff)
			}
			for _, b := range chart.All[*rbacv1.ClusterRoleBinding](m) {
				if b.RoleRef.Name == restartRole {
					t.Errorf("ClusterRoleBinding %s binds %s cluster-wide", b.Name, restartRole)
				}
			}
			for _, b := range chart.All[*rbacv1.RoleBinding](m) {
				if b.RoleRef.Name == restartRole {
					t.Errorf("RoleBinding %s/%s binds %s: the namespaces that want evictions bind it", b.Namespace, b.Name, restartRole)
				}
			}
		})
	}
}

func TestSelfManagedTLSGrantsItsSecretAndWebhookConfigurationsByName(t *testing.T) {
	m := render(t, values("auditor.enabled", false)) // tls.mode=self is the default
	wantCluster := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"limitranges"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list", "watch"}},
		{
			APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"},
			ResourceNames: []string{fullname}, Verbs: []string{"list", "watch", "update"},
		},
	}
	if diff := cmp.Diff(wantCluster, get[*rbacv1.ClusterRole](t, m, fullname).Rules); diff != "" {
		t.Errorf("ClusterRole rules: its own webhook configurations' caBundle, by name (-want +got):\n%s", diff)
	}
	role := get[*rbacv1.Role](t, m, fullname+"-tls")
	wantRole := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{fullname + "-self-tls"}, Verbs: []string{"list", "watch", "update"}}}
	if role.Namespace != namespace {
		t.Errorf("Role %s in namespace %q, want the release's", role.Name, role.Namespace)
	}
	if diff := cmp.Diff(wantRole, role.Rules); diff != "" {
		t.Errorf("Role rules: its own Secret, by name (-want +got):\n%s", diff)
	}
	binding := get[*rbacv1.RoleBinding](t, m, fullname+"-tls")
	if diff := cmp.Diff(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fullname + "-tls"}, binding.RoleRef); diff != "" {
		t.Errorf("RoleBinding roleRef (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]rbacv1.Subject{{Kind: "ServiceAccount", Name: fullname, Namespace: namespace}}, binding.Subjects); diff != "" {
		t.Errorf("RoleBinding subjects (-want +got):\n%s", diff)
	}
	for _, mode := range []string{"cert-manager", "helm"} {
		if has(render(t, values("tls.mode", mode)), "Role/"+fullname+"-tls") {
			t.Errorf("tls.mode=%s renders the self-managed mode's Role", mode)
		}
	}
}

// merged is a copy of a with b's top-level keys merged in, maps recursively.
func merged(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{a, b} {
		for k, v := range m {
			sub, isMap := v.(map[string]any)
			have, haveMap := out[k].(map[string]any)
			if isMap && haveMap {
				out[k] = merged(have, sub)
				continue
			}
			out[k] = v
		}
	}
	return out
}
