package chart_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
)

// TestDeploymentRunsTheAuditorAsConfigured checks the auditor's flags on the webhook
// container: on by default, elected when there is more than one replica, restarting
// workloads only when asked.
func TestDeploymentRunsTheAuditorAsConfigured(t *testing.T) {
	election := []string{"--leader-elect=true", "--leader-election-id=" + fullname + "-auditor"}
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{name: "by default the auditor reports and two replicas elect one to run it",
			values: nil, want: append([]string{"--auditor=true", "--auditor-period=5m"}, election...)},
		{name: "turned off, no auditor flag is passed", values: values("auditor.enabled", false), want: nil},
		{name: "a single replica needs no election", values: values("replicaCount", 1), want: []string{"--auditor=true", "--auditor-period=5m"}},
		{
			name:   "rollout restarts pass their cool-down",
			values: values("auditor.rolloutRestart", true, "auditor.period", "1m", "auditor.restartCooldown", "30m"),
			want:   append([]string{"--auditor=true", "--auditor-period=1m", "--auditor-restart=true", "--auditor-restart-cooldown=30m"}, election...),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, a := range get[*appsv1.Deployment](t, render(t, tc.values), fullname).Spec.Template.Spec.Containers[0].Args {
				if strings.HasPrefix(a, "--auditor") || strings.HasPrefix(a, "--leader-elect") {
					got = append(got, a)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("auditor flags (-want +got):\n%s", diff)
			}
		})
	}
}
