{{/* Name of this environment's cluster (Terraform: studio-<environment>). */}}
{{- define "platform.clusterName" -}}
{{- required "environment is required (envs/<environment>.yaml)" .Values.environment | printf "studio-%s" -}}
{{- end -}}

{{/* IAM role Terraform made for an add-on's service account (modules/eks/addons.tf: <cluster>-<add-on key>).
Call with (list $ "<add-on key>"). */}}
{{- define "platform.roleArn" -}}
{{- $root := index . 0 -}}
{{- printf "arn:aws:iam::%s:role/%s-%s" $root.Values.aws.accountId (include "platform.clusterName" $root) (index . 1) -}}
{{- end -}}

{{/* The environment's backup bucket (Terraform modules/environment: studio-<environment>-backups-<account>). */}}
{{- define "platform.backupBucket" -}}
{{- printf "%s-backups-%s" (include "platform.clusterName" .) .Values.aws.accountId -}}
{{- end -}}

{{/* Replicas of every Elasticsearch index: one where a second node can hold it, none on a single node. */}}
{{- define "platform.elasticsearchReplicas" -}}
{{- if gt (int .Values.elasticsearch.nodes) 1 }}1{{ else }}0{{ end -}}
{{- end -}}

{{/* ECR registry of the images and the chart. */}}
{{- define "platform.registry" -}}
{{- printf "%s.dkr.ecr.%s.amazonaws.com" .Values.aws.accountId .Values.aws.region -}}
{{- end -}}

{{/* The second source of every upstream chart: this repository, whose values/<add-on>.yaml the chart source
reads as $values/platform/values/<add-on>.yaml. */}}
{{- define "platform.valuesSource" -}}
- repoURL: {{ .Values.gitops.repoURL }}
  targetRevision: {{ .Values.gitops.revision }}
  ref: values
{{- end -}}

{{/* Sync policy of every add-on: follow Git and undo hand edits; create the namespace; server-side apply, since
several charts' CRDs exceed the 256 KiB last-applied annotation of client-side apply. */}}
{{- define "platform.syncPolicy" -}}
syncPolicy:
  automated:
    prune: true
    selfHeal: true
  syncOptions:
    - CreateNamespace=true
    - ServerSideApply=true
  retry:
    limit: 10
    backoff:
      duration: 30s
      factor: 2
      maxDuration: 10m
{{- end -}}
