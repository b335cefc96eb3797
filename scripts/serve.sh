#!/usr/bin/env bash
# Start the ASGI web server and the job worker (config/serve.py: one process that loads
# Django and the engine, then forks the worker, so both share what they loaded). Ctrl-C,
# TERM, or either one exiting stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-1349}"
export HOST PORT
# Two malloc arenas per process instead of 8 per core: the web process runs dozens of
# threads (request and libvips threads); bench/http_compare.py measured -10 % peak PSS
# under load and no change in requests/s or batch throughput (issue 14).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# config/serve.py also reads WEB_WORKERS (1), TRUSTED_PROXIES (127.0.0.1: X-Forwarded-For
# and -Proto are believed from these addresses or CIDRs only) and WORKER_NICE (10: when a
# long job and requests want the same cores, the requests go first, so the API stays
# responsive; alone, the worker still gets every core; bench/responsive.py, issue 14).

if [ "$HOST" = "0.0.0.0" ]; then  # every interface: say the addresses one can open
  urls="http://localhost:$PORT"
  for ip in $(hostname -I 2>/dev/null); do
    case "$ip" in *:*) ;; *) urls="$urls or http://$ip:$PORT" ;; esac
  done
else
  urls="http://$HOST:$PORT"
fi
echo "Pixelsmith on $urls"
echo "Sign in there; the first account is admin / admin, and it must choose a new password."
exec "$PY" -m config.serve
