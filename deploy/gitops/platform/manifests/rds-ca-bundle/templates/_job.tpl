{{/* The pod of the CronJob and of the sync-time Job: fetch AWS's RDS CA bundle over HTTPS, check it holds
certificates, and write it into a ConfigMap in each namespace. */}}
{{- define "rds-ca-bundle.podSpec" -}}
serviceAccountName: rds-ca-bundle
restartPolicy: OnFailure
securityContext:
  runAsNonRoot: true
  runAsUser: 65534
  seccompProfile:
    type: RuntimeDefault
containers:
  - name: fetch
    image: {{ required "image is required" .Values.image }}
    env:
      # kubectl keeps its discovery cache under $HOME; the root filesystem is read-only.
      - name: HOME
        value: /tmp
    command: [/bin/sh, -euc]
    args:
      - |
        curl --fail --silent --show-error --retry 5 --proto =https \
          https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem -o /tmp/global-bundle.pem
        grep -q "BEGIN CERTIFICATE" /tmp/global-bundle.pem
        for namespace in {{ join " " .Values.namespaces }}; do
          kubectl -n "$namespace" create configmap rds-ca-bundle --from-file=global-bundle.pem=/tmp/global-bundle.pem \
            --dry-run=client -o yaml | kubectl apply -f -
        done
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: [ALL]
    volumeMounts:
      - name: tmp
        mountPath: /tmp
    resources:
      requests:
        cpu: 10m
        memory: 32Mi
      limits:
        memory: 128Mi
volumes:
  - name: tmp
    emptyDir: {}
{{- end -}}
