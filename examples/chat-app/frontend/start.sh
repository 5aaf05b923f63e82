#!/bin/sh
# The page learns where the backend is (BACKEND_URL), then busybox serves it; SIGTERM stops it at once.
printf '{"backend": "%s"}\n' "${BACKEND_URL:-http://127.0.0.1:8000}" > /www/config.json
trap 'exit 0' TERM INT
httpd -f -p 8080 -h /www &
wait
