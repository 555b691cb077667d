#!/bin/sh
# One-shot set-up of MinIO, the local S3: the bucket, and an access key for Assets that reaches that bucket's
# objects only (the IRSA role's policy in AWS), so the service never runs with MinIO's root credentials.
# ListBucket lets a HEAD of a missing image answer 404 rather than 403; the presigned PUTs and GETs the service
# hands out are signed with this key, so they need PutObject and GetObject.
# Idempotent: safe on every `docker compose up`.
set -eu
: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${BUCKET:?}" "${ASSETS_ACCESS_KEY:?}" "${ASSETS_SECRET_KEY:?}"

mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "local/$BUCKET"

policy=/tmp/assets-objects.json
cat > "$policy" <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    { "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::$BUCKET"] },
    { "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": ["arn:aws:s3:::$BUCKET/*"] }
  ]
}
POLICY
mc admin policy create local assets-objects "$policy"
mc admin user add local "$ASSETS_ACCESS_KEY" "$ASSETS_SECRET_KEY"
mc admin user info local "$ASSETS_ACCESS_KEY" | grep -q assets-objects \
  || mc admin policy attach local assets-objects --user "$ASSETS_ACCESS_KEY"
echo "minio-init: bucket $BUCKET ready; $ASSETS_ACCESS_KEY limited to its objects"
