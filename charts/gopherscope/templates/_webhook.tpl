{{/*
The namespaceSelector expression that keeps system, own and excluded namespaces out.
*/}}
{{- define "gopherscope.namespaceExclusion" -}}
- key: kubernetes.io/metadata.name
  operator: NotIn
  values: {{ include "gopherscope.excludedNamespaces" . }}
{{- end }}

{{/*
What both webhook entries share. Takes a dict: root (the chart context) and caBundle (base64
PEM, empty when cert-manager injects it).
*/}}
{{- define "gopherscope.webhookCommon" -}}
{{- $root := .root }}
{{- $values := $root.Values -}}
clientConfig:
  {{- if $values.webhook.url }}
  url: {{ $values.webhook.url | quote }}
  {{- else }}
  service:
    name: {{ include "gopherscope.fullname" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: /inject
    port: 443
  {{- end }}
  {{- with .caBundle }}
  caBundle: {{ . }}
  {{- end }}
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
