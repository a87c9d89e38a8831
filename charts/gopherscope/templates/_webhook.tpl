{{/*
The namespaceSelector expression that keeps system, own and excluded namespaces out.
*/}}
{{- define "gopherscope.namespaceExclusion" -}}
- key: kubernetes.io/metadata.name
  operator: NotIn
  values: {{ include "gopherscope.excludedNamespaces" . }}
{{- end }}

{{/*
How the API server reaches the webhook at a path. Takes a dict: root (the chart context),
caBundle (base64 PEM, empty when cert-manager injects it) and path. With webhook.url, the
path /inject calls that URL as written, any other path the same URL with its path replaced.
*/}}
{{- define "gopherscope.clientConfig" -}}
{{- $root := .root }}
{{- $values := $root.Values -}}
clientConfig:
  {{- if $values.webhook.url }}
  {{- if eq .path "/inject" }}
  url: {{ $values.webhook.url | quote }}
  {{- else }}
  {{- $url := urlParse $values.webhook.url }}
  {{- $_ := set $url "path" .path }}
  url: {{ urlJoin $url | quote }}
  {{- end }}
  {{- else }}
  service:
    name: {{ include "gopherscope.fullname" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: {{ .path }}
    port: 443
  {{- end }}
  {{- with .caBundle }}
  caBundle: {{ . }}
  {{- end }}
{{- end }}

{{/*
What both webhook entries share. Takes a dict: root (the chart context) and caBundle (base64
PEM, empty when cert-manager injects it).
*/}}
{{- define "gopherscope.webhookCommon" -}}
{{- $root := .root }}
{{- $values := $root.Values -}}
{{ include "gopherscope.clientConfig" (dict "root" $root "caBundle" .caBundle "path" "/inject") }}
rules:
  - operations: ["CREATE"]
    apiGroups: [""]
    apiVersions: ["v1"]
    resources: ["pods"]
    scope: Namespaced
matchPolicy: Equivalent
sideEffects: None
admissionReviewVersions: ["v1"]
reinvocationPolicy: IfNeeded
failurePolicy: {{ $values.webhook.failurePolicy }}
timeoutSeconds: {{ $values.webhook.timeoutSeconds }}
matchConditions:
  # The annotation opt-out: such pods never reach the webhook (the handler checks it too).
  - name: not-opted-out-by-annotation
    expression: >-
      !has(object.metadata.annotations) ||
      !('gopherscope.io/inject' in object.metadata.annotations) ||
      object.metadata.annotations['gopherscope.io/inject'] != 'false'
{{- end }}

{{/*
What both workload validation entries share. Takes the same dict as gopherscope.webhookCommon.
The validator never mutates, and a failure never blocks a workload (failurePolicy Ignore): its
pods are still checked by the mutating webhook.
*/}}
{{- define "gopherscope.workloadWebhookCommon" -}}
{{- $root := .root }}
{{- $values := $root.Values -}}
{{ include "gopherscope.clientConfig" (dict "root" $root "caBundle" .caBundle "path" "/validate-workloads") }}
rules:
  - operations: ["CREATE", "UPDATE"]
    apiGroups: ["apps"]
    apiVersions: ["v1"]
    resources: ["deployments", "statefulsets", "daemonsets", "replicasets"]
    scope: Namespaced
  - operations: ["CREATE", "UPDATE"]
    apiGroups: ["batch"]
    apiVersions: ["v1"]
    resources: ["jobs", "cronjobs"]
    scope: Namespaced
matchPolicy: Equivalent
sideEffects: None
admissionReviewVersions: ["v1"]
failurePolicy: Ignore
timeoutSeconds: {{ $values.webhook.timeoutSeconds }}
{{- end }}

{{/*
CEL over a workload (object): its pod template is `spec.template`, or a CronJob's
`spec.jobTemplate.spec.template`; the list trick binds s to the spec that holds it. A
matchCondition that errs skips the webhook (failurePolicy Ignore), but these guard every step.
*/}}
{{- define "gopherscope.templateHolder" -}}
[object.spec].map(s, has(s.jobTemplate) && has(s.jobTemplate.spec) ? s.jobTemplate.spec : s)
{{- end }}

{{/*
CEL: the workload's pod template does not opt out with the annotation gopherscope.io/inject: "false".
*/}}
{{- define "gopherscope.templateNotOptedOut" -}}
!has(object.spec) || {{ include "gopherscope.templateHolder" . }}.all(s,
!has(s.template) || !has(s.template.metadata) || !has(s.template.metadata.annotations) ||
!('gopherscope.io/inject' in s.template.metadata.annotations) ||
s.template.metadata.annotations['gopherscope.io/inject'] != 'false')
{{- end }}

{{/*
CEL: the workload's pod template has a label or annotation whose key starts with gopherscope.io/.
*/}}
{{- define "gopherscope.templateHasGopherscopeKey" -}}
has(object.spec) && {{ include "gopherscope.templateHolder" . }}.exists(s,
has(s.template) && has(s.template.metadata) && (
(has(s.template.metadata.labels) && s.template.metadata.labels.exists(k, k.startsWith('gopherscope.io/'))) ||
(has(s.template.metadata.annotations) && s.template.metadata.annotations.exists(k, k.startsWith('gopherscope.io/')))))
{{- end }}
