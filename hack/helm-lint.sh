#!/usr/bin/env bash
# Lints the chart (helm lint --strict) and renders it (helm template) with every combination
# of the values that change its structure: tls.mode x webhook.url set/unset x monitors on/off
# (with the auditor and its restarts; off without the auditor) x replicaCount 1/2 x
# failurePolicy, each rendering both webhook configurations and the diagnostics APIService
# (never with insecureSkipTLSVerify); then the workload validator off, and diagnostics off.
# Exits non-zero if any combination fails; prints them all.
# Usage: hack/helm-lint.sh   (HELM=path/to/helm to use another helm binary)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
helm="${HELM:-$root/bin/helm}"
chart="$root/charts/gopherscope"
# A helm built with `go install` assumes Kubernetes 1.20 without a cluster; the chart needs
# 1.28 or newer. Check the floor and the local control plane's version.
kube_versions=(1.28.0 1.37.2)

if [[ ! -x "$helm" ]]; then
  echo "helm-lint: $helm not found; run make bin/helm" >&2
  exit 1
fi

failures=()
runs=0

# check NAME ARGS...: runs helm lint --strict and helm template with ARGS; the rendering must
# hold both webhook configurations (the injector and the workload validator) unless
# WANT_VALIDATING=0, and the diagnostics APIService unless WANT_DIAGNOSTICS=0; it never skips
# TLS verification.
check() {
  local name="$1"
  shift
  local kube out kind
  for kube in "${kube_versions[@]}"; do
    runs=$((runs + 1))
    if ! out="$("$helm" lint --strict --quiet "$chart" --kube-version "$kube" "$@" 2>&1)"; then
      failures+=("lint [$name] k8s $kube: $out")
    fi
    if ! out="$("$helm" template gopherscope "$chart" --namespace gopherscope --kube-version "$kube" "$@" 2>&1)"; then
      failures+=("template [$name] k8s $kube: $out")
      continue
    fi
    for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
      if [[ $kind == ValidatingWebhookConfiguration && ${WANT_VALIDATING:-1} == 0 ]]; then
        if grep -qx "kind: $kind" <<<"$out"; then
          failures+=("template [$name] k8s $kube: renders a $kind")
        fi
      elif ! grep -qx "kind: $kind" <<<"$out"; then
        failures+=("template [$name] k8s $kube: no $kind")
      fi
    done
    if [[ ${WANT_DIAGNOSTICS:-1} == 0 ]]; then
      if grep -qi "diagnostics" <<<"$out"; then
        failures+=("template [$name] k8s $kube: diagnostics is off but rendered")
      fi
    elif ! grep -qx "kind: APIService" <<<"$out"; then
      failures+=("template [$name] k8s $kube: no APIService")
    fi
    if grep -qi "insecureSkipTLSVerify" <<<"$out"; then
      failures+=("template [$name] k8s $kube: renders insecureSkipTLSVerify")
    fi
  done
}

for mode in cert-manager helm secret; do
  for url in unset set; do
    for monitors in off on; do
      for replicas in 1 2; do
        for policy in Ignore Fail; do
          args=(--set "tls.mode=$mode" --set "replicaCount=$replicas" --set "webhook.failurePolicy=$policy")
          if [[ $mode == cert-manager ]]; then
            # helm lint sees no cluster, so no cert-manager API: skip the chart's check of it.
            args+=(--set tls.certManager.skipCapabilityCheck=true)
          fi
          if [[ $mode == secret ]]; then
            args+=(--set tls.secret.name=my-tls --set tls.secret.caBundle=Q0E=)
          fi
          if [[ $url == set ]]; then
            args+=(--set webhook.url=https://127.0.0.1:9443/inject --set 'tls.ipAddresses={127.0.0.1}')
          fi
          if [[ $monitors == on ]]; then
            args+=(--set metrics.serviceMonitor.enabled=true --set metrics.podMonitor.enabled=true
              --set dashboard.enabled=true --set auditor.enabled=true --set auditor.rolloutRestart=true
              --set 'topologySpreadConstraints[0].maxSkew=1'
              --set 'topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone'
              --set 'topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway')
          else
            args+=(--set auditor.enabled=false)
          fi
          check "tls.mode=$mode url=$url monitors=$monitors replicas=$replicas failurePolicy=$policy" "${args[@]}"
        done
      done
    done
  done
done

# The workload validator can be left out.
WANT_VALIDATING=0 check "webhook.validateWorkloads=false" --set webhook.validateWorkloads=false

# The diagnostics server: one replica and no aggregation into view, and left out.
check "diagnostics.replicaCount=1 aggregateToView=false" --set diagnostics.replicaCount=1 \
  --set diagnostics.rbac.aggregateToView=false
WANT_DIAGNOSTICS=0 check "diagnostics.enabled=false" --set diagnostics.enabled=false

# Values the chart must refuse: each has to fail.
refused=(
  "tls.mode=vault"
  "webhook.failurePolicy=Sometimes"
  "webhook.url=https://127.0.0.1:9443/inject"
  "tls.mode=secret"
  "auditor.period=0s"
  "diagnostics.tls.certValidity=1d"
  "diagnostics.sidecarPort=9184"
  "diagnostics.podDisruptionBudget.minAvailable=2"
)
for set in "${refused[@]}"; do
  runs=$((runs + 1))
  if "$helm" template gopherscope "$chart" --kube-version 1.37.2 --set "$set" >/dev/null 2>&1; then
    failures+=("template [--set $set] succeeded, want a refusal")
  fi
done

if ((${#failures[@]} > 0)); then
  printf 'helm-lint: FAIL %s\n' "${failures[@]}" >&2
  echo "helm-lint: ${#failures[@]} of $runs checks failed" >&2
  exit 1
fi
echo "helm-lint: ok, $runs checks (lint --strict + template, Kubernetes ${kube_versions[*]})"
