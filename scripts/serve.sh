#!/usr/bin/env bash
# Start the ASGI web server and a django-q2 worker; Ctrl-C (or either one exiting) stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-1349}"

"$PY" -m uvicorn config.asgi:application --host "$HOST" --port "$PORT" \
  --workers "${WEB_WORKERS:-1}" --proxy-headers --timeout-graceful-shutdown 10 &
web=$!
# Its own session: a Ctrl-C reaches only this script, which then stops the worker with
# one TERM (django-q's cluster can hang when it gets SIGINT and SIGTERM at once).
setsid "$PY" manage.py qcluster &
worker=$!

stop() {
  kill -TERM "$web" "$worker" 2>/dev/null
  for _ in $(seq 1 30); do
    kill -0 "$web" 2>/dev/null || kill -0 "$worker" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL "$web" 2>/dev/null; kill -KILL -- -"$worker" 2>/dev/null; return 0
}
trap 'stop; exit 0' INT TERM
echo "Pixelsmith on http://$HOST:$PORT (web pid $web, worker pid $worker)"
wait -n "$web" "$worker"
status=$?
stop
exit "$status"
