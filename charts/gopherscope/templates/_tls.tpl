{{/*
The CA and serving certificate of tls.mode=helm, as a JSON object of base64 PEM strings
(caCrt, caKey, crt, key) and the metadata that decides their reuse (names, notAfter).

Certificates are generated with ECDSA P-256 keys at the first install and reused on upgrade
(looked up from the existing Secrets), so `helm upgrade` does not rotate them needlessly:
- the CA is kept while its Secret exists;
- the serving certificate is kept while it was signed by that CA, its names (Service names,
  tls.dnsNames, tls.ipAddresses) are unchanged and it is more than 30 days from expiry;
  otherwise a new one is signed by the same CA, so the caBundle does not change.
`helm template` and client-side dry runs cannot look up, so they always print fresh ones.
*/}}
{{- define "gopherscope.helmTLS" -}}
{{- $ns := .Release.Namespace }}
{{- $dns := include "gopherscope.dnsNames" . | fromJsonArray }}
{{- $ips := .Values.tls.ipAddresses }}
{{- $names := printf "dns=%s;ip=%s" (join "," $dns) (join "," $ips) | sha256sum }}
{{- $now := now | unixEpoch | atoi }}
{{- $margin := mul 30 86400 }}
{{- $out := dict }}
{{- $caSecret := lookup "v1" "Secret" $ns (include "gopherscope.caSecretName" .) }}
{{- $caData := dig "data" dict $caSecret }}
{{- if and (index $caData "tls.crt") (index $caData "tls.key") }}
{{- $_ := set $out "caCrt" (index $caData "tls.crt") }}
{{- $_ := set $out "caKey" (index $caData "tls.key") }}
{{- else }}
{{- $ca := genCAWithKey (printf "%s-ca" (include "gopherscope.fullname" .)) (int .Values.tls.helm.caValidityDays) (genPrivateKey "ecdsa") }}
{{- $_ := set $out "caCrt" ($ca.Cert | b64enc) }}
{{- $_ := set $out "caKey" ($ca.Key | b64enc) }}
{{- end }}
{{- $tlsSecret := lookup "v1" "Secret" $ns (include "gopherscope.tlsSecretName" .) }}
{{- $tlsData := dig "data" dict $tlsSecret }}
{{- $tlsAnn := dig "metadata" "annotations" dict $tlsSecret }}
{{- $notAfter := index $tlsAnn "gopherscope.io/tls-not-after" | default "0" | atoi }}
{{- if and (index $tlsData "tls.crt") (index $tlsData "tls.key")
      (eq (index $tlsData "ca.crt" | default "") $out.caCrt)
      (eq (index $tlsAnn "gopherscope.io/tls-names" | default "") $names)
      (gt $notAfter (add $now $margin)) }}
{{- $_ := set $out "crt" (index $tlsData "tls.crt") }}
{{- $_ := set $out "key" (index $tlsData "tls.key") }}
{{- $_ := set $out "notAfter" (toString $notAfter) }}
{{- else }}
{{- $ca := buildCustomCert $out.caCrt $out.caKey }}
{{- $days := int .Values.tls.helm.validityDays }}
{{- $cert := genSignedCertWithKey (first $dns) $ips $dns $days $ca (genPrivateKey "ecdsa") }}
{{- $_ := set $out "crt" ($cert.Cert | b64enc) }}
{{- $_ := set $out "key" ($cert.Key | b64enc) }}
{{- $_ := set $out "notAfter" (toString (add $now (mul $days 86400))) }}
{{- end }}
{{- $_ := set $out "names" $names }}
{{- toJson $out }}
{{- end }}
