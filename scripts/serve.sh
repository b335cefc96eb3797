#!/usr/bin/env bash
# Start the ASGI web server and a django-q2 worker; Ctrl-C (or either one exiting) stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-1349}"
# Two malloc arenas per process instead of 8 per core: the web process runs dozens of
# threads (request and libvips threads); bench/http_compare.py measured -10 % peak PSS
# under load and no change in requests/s or batch throughput (issue 14).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# X-Forwarded-For/-Proto are believed from TRUSTED_PROXIES only (addresses or CIDRs).
"$PY" -m uvicorn config.asgi:application --host "$HOST" --port "$PORT" \
  --workers "${WEB_WORKERS:-1}" --proxy-headers \
  --forwarded-allow-ips "${TRUSTED_PROXIES:-127.0.0.1}" --timeout-graceful-shutdown 10 &
web=$!
# Its own session: a Ctrl-C reaches only this script, which then stops the worker with
# one TERM (django-q's cluster can hang when it gets SIGINT and SIGTERM at once).
# At a lower CPU priority (WORKER_NICE, 0 to 19): when a long job (an AI upscale, a batch)
# and requests want the same cores, the requests go first, so the API stays responsive;
# alone, the worker still gets every core (bench/responsive.py, issue 14).
setsid nice -n "${WORKER_NICE:-10}" "$PY" manage.py qcluster &
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
if [ "$HOST" = "0.0.0.0" ]; then  # every interface: say the addresses one can open
  urls="http://localhost:$PORT"
  for ip in $(hostname -I 2>/dev/null); do
    case "$ip" in *:*) ;; *) urls="$urls or http://$ip:$PORT" ;; esac
  done
else
  urls="http://$HOST:$PORT"
fi
echo "Pixelsmith on $urls (web pid $web, worker pid $worker)"
echo "Sign in there; the first account is admin / admin, and it must choose a new password."
wait -n "$web" "$worker"
status=$?
stop
exit "$status"
