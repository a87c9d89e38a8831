{{/*
The chart name, truncated to the 63 characters Kubernetes names allow.
*/}}
{{- define "gopherscope.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name prefix of every resource: the release name, followed by the chart name unless
the release name already contains it. Truncated to leave room for suffixes such as "-serving".
*/}}
{{- define "gopherscope.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "gopherscope.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gopherscope.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels that select the webhook pods (never change them: Deployment selectors are immutable).
*/}}
{{- define "gopherscope.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gopherscope.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{/*
The ServiceAccount the webhook runs as.
*/}}
{{- define "gopherscope.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gopherscope.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The webhook image reference: the digest wins over the tag; the tag defaults to appVersion.
*/}}
{{- define "gopherscope.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The sidecar image reference, written into the injection config: the digest wins over the tag;
the tag defaults to appVersion. A plain string (the chart's former `injection.sidecar.image`
value, a whole reference) is used as it is.
*/}}
{{- define "gopherscope.sidecarImage" -}}
{{- $image := .Values.injection.sidecar.image }}
{{- if kindIs "string" $image }}
{{- $image }}
{{- else if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
Whether the webhook runs in the cluster (a Deployment behind a Service) rather than at
webhook.url.
*/}}
{{- define "gopherscope.inCluster" -}}
{{- if not .Values.webhook.url }}true{{ end }}
{{- end }}

{{/*
The names of the Secrets and certificates.
*/}}
{{- define "gopherscope.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- .Values.tls.secret.name }}
{{- else if eq .Values.tls.mode "self" }}
{{- /* Not <fullname>-tls: that one is kubernetes.io/tls, and a Secret's type cannot change. */}}
{{- printf "%s-self-tls" (include "gopherscope.fullname" .) }}
{{- else }}
{{- printf "%s-tls" (include "gopherscope.fullname" .) }}
{{- end }}
{{- end }}

{{- define "gopherscope.caSecretName" -}}
{{- printf "%s-ca" (include "gopherscope.fullname" .) }}
{{- end }}

{{- define "gopherscope.servingCertificateName" -}}
{{- printf "%s-serving" (include "gopherscope.fullname" .) }}
{{- end }}

{{/*
The DNS names of the serving certificate: the Service's names and tls.dnsNames, as a JSON list.
*/}}
{{- define "gopherscope.dnsNames" -}}
{{- $svc := include "gopherscope.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- $names := list (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) }}
{{- concat $names .Values.tls.dnsNames | uniq | toJson }}
{{- end }}

{{/*
Namespaces the webhook configuration never sends: the system ones, the release's own and
injection.excludedNamespaces, as a JSON list.
*/}}
{{- define "gopherscope.excludedNamespaces" -}}
{{- $system := list "kube-system" "kube-public" "kube-node-lease" .Release.Namespace }}
{{- concat $system .Values.injection.excludedNamespaces | uniq | toJson }}
{{- end }}

{{/*
Fails the render with a clear message when values contradict each other (what the schema
cannot say).
*/}}
{{- define "gopherscope.validate" -}}
{{- if and (eq .Values.tls.mode "secret") (or (not .Values.tls.secret.name) (not .Values.tls.secret.caBundle)) }}
{{- fail "tls.mode=secret needs tls.secret.name (an existing kubernetes.io/tls Secret) and tls.secret.caBundle (the base64 PEM of its CA)" }}
{{- end }}
{{- if and .Values.webhook.url (ne .Values.tls.mode "secret") }}
{{- $host := (urlParse .Values.webhook.url).hostname }}
{{- if not (or (has $host .Values.tls.ipAddresses) (has $host .Values.tls.dnsNames)) }}
{{- fail (printf "webhook.url host %q must be listed in tls.ipAddresses or tls.dnsNames so that the serving certificate names it" $host) }}
{{- end }}
{{- end }}
{{- if and (eq .Values.tls.mode "cert-manager") (not .Values.tls.certManager.skipCapabilityCheck) (not (.Capabilities.APIVersions.Has "cert-manager.io/v1")) }}
{{- fail "tls.mode=cert-manager needs cert-manager (the API cert-manager.io/v1), which this cluster does not serve: install cert-manager first, or use tls.mode=self (the default: the webhook manages its own certificate) or tls.mode=secret. Rendering without a cluster (helm template in a GitOps pipeline)? Set tls.certManager.skipCapabilityCheck=true" }}
{{- end }}
{{- if and .Values.auditor.rolloutRestart (not .Values.auditor.enabled) }}
{{- fail "auditor.rolloutRestart needs auditor.enabled: the auditor is what restarts workloads" }}
{{- end }}
{{- with .Values.diagnostics }}
{{- if and .enabled .podDisruptionBudget.enabled (gt (int .replicaCount) 1) (ge (int .podDisruptionBudget.minAvailable) (int .replicaCount)) }}
{{- fail (printf "diagnostics.podDisruptionBudget.minAvailable (%d) must be less than diagnostics.replicaCount (%d), or no node could ever be drained" (int .podDisruptionBudget.minAvailable) (int .replicaCount)) }}
{{- end }}
{{- if and .enabled (eq (int .sidecarPort) (int $.Values.injection.sidecar.port)) }}
{{- fail (printf "diagnostics.sidecarPort and injection.sidecar.port are both %d: the sidecar listens on both, so they must differ" (int .sidecarPort)) }}
{{- end }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (gt (int .Values.replicaCount) 1) (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be less than replicaCount (%d), or no node could ever be drained" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) }}
{{- end }}
{{- end }}

{{/*
The Lease the webhook replicas elect the auditor's replica with (auditor.enabled, more than one
replica).
*/}}
{{- define "gopherscope.leaseName" -}}
{{- printf "%s-auditor" (include "gopherscope.fullname" .) }}
{{- end }}

{{/*
The webhook configurations whose caBundle the webhook keeps with tls.mode=self, as the
--tls-self-webhooks list (kind/name, comma-separated).
*/}}
{{- define "gopherscope.selfTLSWebhooks" -}}
{{- $name := include "gopherscope.fullname" . }}
{{- $refs := list (printf "mutating/%s" $name) }}
{{- if .Values.webhook.validateWorkloads }}
{{- $refs = append $refs (printf "validating/%s" $name) }}
{{- end }}
{{- join "," $refs }}
{{- end }}

{{/*
The ClusterRole that lets the auditor evict pods where a RoleBinding binds it (auditor.rolloutRestart).
*/}}
{{- define "gopherscope.restartRoleName" -}}
{{- printf "%s-restart" (include "gopherscope.fullname" .) }}
{{- end }}

{{/*
Whether the replicas elect one to run the auditor.
*/}}
{{- define "gopherscope.leaderElection" -}}
{{- if and .Values.auditor.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}
