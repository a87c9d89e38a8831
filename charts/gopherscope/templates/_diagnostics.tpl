{{/*
The diagnostics API server's name prefix: its Deployment, Service, ServiceAccount and RBAC.
*/}}
{{- define "gopherscope.diagnosticsName" -}}
{{- printf "%s-diagnostics" (include "gopherscope.fullname" .) }}
{{- end }}

{{/*
The Secret that holds the diagnostics CA's roots and the ConfigMap that publishes their public
bundle: one name for both (they are of different kinds).
*/}}
{{- define "gopherscope.diagnosticsCAName" -}}
{{- printf "%s-diagnostics-ca" (include "gopherscope.fullname" .) }}
{{- end }}

{{/*
The APIService's name: <version>.<group>, cluster-wide, so one release per cluster may enable
diagnostics.
*/}}
{{- define "gopherscope.diagnosticsAPIService" -}}
v1alpha1.diagnostics.gopherscope.io
{{- end }}

{{/*
Labels on every diagnostics resource: the chart's labels with component diagnostics.
*/}}
{{- define "gopherscope.diagnosticsLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gopherscope.diagnosticsSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels that select the diagnostics pods (never change them: Deployment selectors are immutable).
*/}}
{{- define "gopherscope.diagnosticsSelectorLabels" -}}
app.kubernetes.io/name: {{ include "gopherscope.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: diagnostics
{{- end }}

{{/*
The diagnostics image reference: the digest wins over the tag; the tag defaults to appVersion.
*/}}
{{- define "gopherscope.diagnosticsImage" -}}
{{- with .Values.diagnostics.image }}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository (default $.Chart.AppVersion .tag) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The DNS names of the diagnostics serving certificate (the Service's), comma-separated.
*/}}
{{- define "gopherscope.diagnosticsDNSNames" -}}
{{- $svc := include "gopherscope.diagnosticsName" . }}
{{- printf "%s.%s.svc,%s.%s.svc.cluster.local" $svc .Release.Namespace $svc .Release.Namespace }}
{{- end }}
