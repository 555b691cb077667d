{{/* The request bodies of the setup Job (setup-job.yaml), one file each; the Job's checksum annotation hashes them
so a changed body re-runs it. */}}
{{- define "observability.setupFiles" -}}
{{- $families := dict "services" .Values.retentionDays.services "platform" .Values.retentionDays.platform -}}
{{- range $family, $days := $families }}
ilm-{{ $family }}.json: |
  {"policy": {"phases": {"hot": {"actions": {}}, "delete": {"min_age": "{{ int $days }}d", "actions": {"delete": {}}}}}}
template-{{ $family }}.json: |
  {"index_patterns": ["{{ $family }}-*"], "priority": 200,
   "template": {"settings": {"index.lifecycle.name": "{{ $family }}", "index.number_of_shards": 1, "index.number_of_replicas": {{ int $.Values.replicas }}}}}
{{- end }}
repository-s3-backups.json: |
  {"type": "s3", "settings": {"bucket": "{{ required "snapshots.bucket is required" .Values.snapshots.bucket }}", "base_path": "elasticsearch"}}
slm-daily.json: |
  {"schedule": "{{ .Values.snapshots.schedule }}", "name": "<daily-{now/d}>", "repository": "s3-backups",
   "config": {"indices": ["*"], "include_global_state": true},
   "retention": {"expire_after": "{{ .Values.snapshots.expireAfter }}", "min_count": {{ int .Values.snapshots.minCount }}, "max_count": {{ int .Values.snapshots.maxCount }}}}
{{- end -}}
