{{/*
An alert's labels: the given defaults (a dict, e.g. severity for alerts whose series has none)
overridden by metrics.prometheusRule.alertLabels. Takes a list: the chart context and the
defaults. Renders nothing when both are empty, so a finding's own severity label stays.
*/}}
{{- define "gopherscope.alertLabels" -}}
{{- $root := index . 0 }}
{{- $labels := mergeOverwrite (deepCopy (index . 1)) $root.Values.metrics.prometheusRule.alertLabels }}
{{- with $labels -}}
labels:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
An alert's runbook_url annotation, when metrics.prometheusRule.runbookURL is set.
*/}}
{{- define "gopherscope.runbookURL" -}}
{{- with .Values.metrics.prometheusRule.runbookURL -}}
runbook_url: {{ . | quote }}
{{- end }}
{{- end }}
