{{/* Name of the service: the app.kubernetes.io/name label. */}}
{{- define "service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of every object. With release "catalog" and nameOverride "catalog" it is "catalog": Vault roles,
service accounts and the other services' URLs rely on that. */}}
{{- define "service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object: the pod labels plus the chart build. */}}
{{- define "service.labels" -}}
helm.sh/chart: {{ include "service.chart" . }}
{{ include "service.podLabels" . }}
{{- end }}

{{/* Labels of the Rollout's pod template. Nothing here may change unless the pods themselves do: Argo Rollouts names a
ReplicaSet by the hash of the whole template (rollout/sync.go), and every build has its own chart version
(buildspec.yml: <Chart.yaml version>-<branch>-<sha>), so helm.sh/chart here would start a release whenever the chart
pin moves, even for the same image. The version label follows image.tag, which changes the container anyway. */}}
{{- define "service.podLabels" -}}
{{ include "service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: studio
{{- end }}

{{/* Labels of every pod of the release (API pods, migration and smoke Jobs): the default-deny policy's selector. */}}
{{- define "service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The API pods only: selector of the Rollout, Services, PDB, PodMonitor and API NetworkPolicy, so that Job pods
are never load-balanced, scraped or counted as available. */}}
{{- define "service.apiSelectorLabels" -}}
{{ include "service.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "service.serviceAccountName" -}}
{{- include "service.fullname" . }}
{{- end }}

{{- define "service.migratorServiceAccountName" -}}
{{- printf "%s-migrator" (include "service.fullname" .) }}
{{- end }}

{{/* The Services of the ping-pong canary (README "Releases behind the ALB"). The stable Service keeps the full
name: Assets' CatalogClient:BaseUrl and the runbooks call it. */}}
{{- define "service.stableName" -}}
{{- include "service.fullname" . }}
{{- end }}

{{/* Follows the new ReplicaSet from its creation (the stable one when no release runs): the smoke Job's target. */}}
{{- define "service.canaryName" -}}
{{- printf "%s-canary" (include "service.fullname" .) }}
{{- end }}

{{/* The two ALB target groups: one serves as stable, the other as canary; the roles swap at every promotion. */}}
{{- define "service.pingName" -}}
{{- printf "%s-ping" (include "service.fullname" .) }}
{{- end }}

{{- define "service.pongName" -}}
{{- printf "%s-pong" (include "service.fullname" .) }}
{{- end }}

{{/* Not a Service: the name of the Ingress rules' backend (port use-annotation) and of the forward action Argo
Rollouts writes into alb.ingress.kubernetes.io/actions.<root> with the ping and pong weights. */}}
{{- define "service.rootName" -}}
{{- printf "%s-root" (include "service.fullname" .) }}
{{- end }}

{{/* The forward action of the root rule, in the format Argo Rollouts writes (rollout/trafficrouting/alb/alb.go
getForwardActionString: canary first, then stable). Argo CD applies it only when it creates the Ingress (a fresh
install, where the first ReplicaSet becomes stable behind ping: rollout/sync.go promoteStable); on an existing Ingress
it keeps the live value (ignoreDifferences + RespectIgnoreDifferences, argocd/services.yaml), absent until Argo
Rollouts writes it, and the AWS Load Balancer Controller answers the rule with a fixed 503 meanwhile. */}}
{{- define "service.rootAction" -}}
{{- printf `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":%q,"ServicePort":"%d","Weight":0},{"ServiceName":%q,"ServicePort":"%d","Weight":100}]}}` (include "service.pongName" .) (int .Values.ports.api) (include "service.pingName" .) (int .Values.ports.api) }}
{{- end }}

{{- define "service.image" -}}
{{- printf "%s:%s" (required "image.repository is required" .Values.image.repository) (required "image.tag is required" .Values.image.tag) }}
{{- end }}

{{/* Seconds as a .NET TimeSpan ("00:00:05"). */}}
{{- define "service.timespan" -}}
{{- $s := int . }}
{{- printf "%02d:%02d:%02d" (div $s 3600) (div (mod $s 3600) 60) (mod $s 60) }}
{{- end }}

{{/* The drain timings must agree (README, "Drain timings"); refuse to render when they do not. */}}
{{- define "service.validateTimings" -}}
{{- $s := .Values.shutdown }}
{{- $drain := add $s.preStopSleepSeconds $s.drainDelaySeconds $s.timeoutSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $drain) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed shutdown.preStopSleepSeconds + drainDelaySeconds + timeoutSeconds (%d): the kubelet would kill requests still in flight" (int .Values.terminationGracePeriodSeconds) (int $drain)) }}
{{- end }}
{{- if .Values.ingress.enabled }}
{{- $dereg := int .Values.ingress.deregistrationDelaySeconds }}
{{- if or (lt $dereg (int $s.timeoutSeconds)) (gt $dereg (int $drain)) }}
{{- fail (printf "ingress.deregistrationDelaySeconds (%d) must be between shutdown.timeoutSeconds (%d) and the pod's whole drain (%d): the ALB must let in-flight requests finish, and the pod must outlive them" $dereg (int $s.timeoutSeconds) (int $drain)) }}
{{- end }}
{{- range $key := list "scaleDownDelaySeconds" "abortScaleDownDelaySeconds" }}
{{- $delay := int (index $.Values.rollout $key) }}
{{- if lt $delay (add $dereg $s.preStopSleepSeconds | int) }}
{{- fail (printf "rollout.%s (%d) must be at least ingress.deregistrationDelaySeconds + shutdown.preStopSleepSeconds (%d): the stack that loses its traffic must outlive the ALB's deregistration of its targets" $key $delay (add $dereg $s.preStopSleepSeconds | int)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Vault Agent Injector annotations rendering database.json from a static role. Arguments: root context, Vault
role, database static role, and whether the pod is a Job (init container only, so the Job can complete). */}}
{{- define "service.vaultAnnotations" -}}
{{- $root := index . 0 }}
{{- $role := index . 1 }}
{{- $databaseRole := required "vault.databaseRole and vault.migrator.databaseRole are required (e.g. catalog-app, catalog-migrator)" (index . 2) }}
{{- $job := index . 3 }}
{{- $v := $root.Values.vault -}}
vault.hashicorp.com/agent-inject: "true"
vault.hashicorp.com/role: {{ $role | quote }}
vault.hashicorp.com/secret-volume-path: {{ $v.secretsDirectory | quote }}
vault.hashicorp.com/agent-inject-secret-database.json: {{ printf "database/static-creds/%s" $databaseRole | quote }}
vault.hashicorp.com/agent-inject-template-database.json: |
{{- $root.Files.Get "files/vault/database.json.ctmpl" | replace "__DB_ROLE__" $databaseRole | trimSuffix "\n" | nindent 2 }}
vault.hashicorp.com/agent-inject-perms-database.json: {{ $v.filePermissions | quote }}
vault.hashicorp.com/error-on-missing-key-database.json: "true"
vault.hashicorp.com/agent-run-as-same-user: "true"
vault.hashicorp.com/agent-cache-enable: {{ $v.cacheEnabled | quote }}
{{- if $v.caSecret }}
vault.hashicorp.com/tls-secret: {{ $v.caSecret | quote }}
vault.hashicorp.com/ca-cert: {{ $v.caCertPath | quote }}
{{- end }}
vault.hashicorp.com/agent-requests-cpu: {{ $v.agentResources.requestsCpu | quote }}
vault.hashicorp.com/agent-requests-mem: {{ $v.agentResources.requestsMemory | quote }}
vault.hashicorp.com/agent-limits-mem: {{ $v.agentResources.limitsMemory | quote }}
{{- if $job }}
vault.hashicorp.com/agent-pre-populate-only: "true"
{{- end }}
{{- end }}

{{/* Pod and container security: the .NET images' non-root app user, nothing writable but /tmp. */}}
{{- define "service.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1654
runAsGroup: 1654
fsGroup: 1654
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "service.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1654
runAsGroup: 1654
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Volumes every container of the release mounts: a writable /tmp and the RDS CA bundle. */}}
{{- define "service.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: rds-ca
  configMap:
    name: {{ .Values.database.rootCertificate.configMapName }}
    items:
      - key: {{ .Values.database.rootCertificate.key }}
        path: {{ .Values.database.rootCertificate.key }}
{{- end }}

{{- define "service.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: rds-ca
  mountPath: {{ .Values.database.rootCertificate.mountPath }}
  readOnly: true
{{- end }}

{{/* Settings shared by the service and the migration Job. */}}
{{- define "service.databaseEnv" -}}
Database__Writer: {{ required "database.writer is required" .Values.database.writer | quote }}
Database__RootCertificate: {{ printf "%s/%s" .Values.database.rootCertificate.mountPath .Values.database.rootCertificate.key | quote }}
Secrets__Directory: {{ .Values.vault.secretsDirectory | quote }}
Logging__Level: {{ .Values.logLevel | quote }}
{{- end }}

{{/* Egress rules, one per dependency (NetworkPolicyEgressRule list items). */}}
{{- define "service.egressDns" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{- define "service.egressDatabase" -}}
- to:
    {{- range required "networkPolicy.databaseCidrs is required (the database subnets)" .Values.networkPolicy.databaseCidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - port: 5432
      protocol: TCP
{{- end }}

{{- define "service.egressVault" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.vault.namespace }}
  ports:
    - port: {{ .Values.networkPolicy.vault.port }}
      protocol: TCP
{{- end }}
