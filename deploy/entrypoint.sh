#!/bin/sh
# govingest container entrypoint: one image, the first argument chooses the role.
#
# Why a role table rather than one image per role: every role must run the same code
# and the same pinned dependencies, or a fetch worker and a process worker disagree about
# the schema. Extra arguments are passed to the role's command, so
#   docker run IMAGE fetch-worker --concurrency 16
# runs `celery -A govingest.workers.fleet.app worker --queues fetch ... --concurrency 16`.
# Configuration comes from the environment (see docs/operations.md); this script reads
# none of it, so `govingest config` shows exactly what the roles will use.
set -eu

ROLE_FILE="${TMPDIR:-/tmp}/govingest-role"

usage() {
    cat <<'EOF'
usage: govingest-entrypoint ROLE [ARGS...]

roles:
  migrate          apply database migrations, then exit (run once per release)
  dispatcher       claim due URLs from the frontier and queue them; reap expired leases
  fetch-worker     Celery worker on the `fetch` queue (I/O bound: GOVINGEST_FETCH_CONCURRENCY threads)
  process-worker   Celery worker on the `process` queue (CPU bound: one prefork child; scale replicas)
  flower           Flower, the Celery monitoring web UI, on port 5555
  crawl            one in-process crawl of the sites file (no Redis), then exit
  govingest        any govingest command, e.g. `govingest status`
  healthcheck      exit 0 when this container's role is healthy (Docker HEALTHCHECK, k8s probes)
  help             this text
EOF
}

healthcheck() {
    # The role the container was started with is recorded at start, because a
    # HEALTHCHECK runs as a separate process that cannot see the entrypoint's arguments.
    role=$(cat "$ROLE_FILE" 2>/dev/null || echo unknown)
    case "$role" in
        fetch-worker|process-worker)
            # A worker is healthy when it answers a broker ping addressed to it by name.
            exec celery -A govingest.workers.fleet.app inspect ping --timeout 5 \
                --destination "${role%-worker}@$(uname -n)" >/dev/null ;;
        flower)
            exec python -c 'import sys, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:5555/healthcheck", timeout=5)
except Exception as exc:
    sys.exit(f"flower unhealthy: {exc}")' ;;
        dispatcher)
            # The dispatcher is healthy while it can reach PostgreSQL, where all its state is.
            exec python -c 'import sys
from govingest.db.connect import connect
from govingest.workers.settings import Settings
try:
    with connect(Settings.from_env().database_url or "", connect_timeout=5) as conn:
        conn.execute("SELECT 1")
except Exception as exc:
    sys.exit(f"dispatcher unhealthy: {exc}")' ;;
        *)
            exit 0 ;;
    esac
}

role="${1:-help}"
[ "$#" -gt 0 ] && shift

case "$role" in
    healthcheck) healthcheck ;;
    help|-h|--help) usage; exit 0 ;;
esac

# --- role table (tests/deploy parse it: one role per line, `ROLE) set -- COMMAND "$@" ;;`) ---
case "$role" in
    migrate)        set -- govingest migrate "$@" ;;
    dispatcher)     set -- govingest dispatch "$@" ;;
    fetch-worker)   set -- celery -A govingest.workers.fleet.app worker --queues fetch --pool threads --concurrency "$(govingest config --get GOVINGEST_FETCH_CONCURRENCY)" --hostname fetch@%h --without-gossip --without-mingle --without-heartbeat "$@" ;;
    process-worker) set -- celery -A govingest.workers.fleet.app worker --queues process --pool prefork --concurrency 1 --hostname process@%h --without-gossip --without-mingle --without-heartbeat "$@" ;;
    flower)         set -- celery -A govingest.workers.fleet.app flower --address=0.0.0.0 --port=5555 "$@" ;;
    crawl)          set -- govingest crawl "$@" ;;
    govingest)      set -- govingest "$@" ;;
    *)
        echo "govingest-entrypoint: unknown role '$role'; run with 'help' to list the roles" >&2
        exit 64 ;;
esac
# --- end role table ---

echo "$role" >"$ROLE_FILE" 2>/dev/null || true
exec "$@"
