#!/bin/sh
# govingest container entrypoint: one image, the first argument chooses the role.
#
# Why a role table rather than one image per role: every role must run the same code
# and the same pinned dependencies, or a fetch worker and a process worker disagree about
# the schema. Extra arguments are passed to the role's command, so
#   docker run IMAGE fetch-worker --concurrency 16
# runs `celery -A govingest.workers.fleet.app worker --queues fetch ... --concurrency 16`.
# Configuration comes from the environment (see docs/operations.md); this script reads
# none of govingest's settings itself, so `govingest config` shows exactly what the roles
# will use.
#
# Fail fast: before a role starts, `govingest config --validate` checks every setting and
# the URLs the role needs (exit 78, one line per bad or missing variable, within a second),
# and GOVINGEST_EMBEDDED=false means no command ever starts an embedded PostgreSQL or
# Redis inside a container: its data would die with the container, and a worker that
# cannot reach its broker must say so rather than wait on localhost forever.
set -eu

export GOVINGEST_EMBEDDED=false
EX_CONFIG=78

ROLE_FILE="${TMPDIR:-/tmp}/govingest-role"

usage() {
    cat <<'EOF'
usage: govingest-entrypoint ROLE [ARGS...]

roles:
  migrate          apply database migrations, then exit (run once per release)
  dispatcher       claim due URLs from the frontier and queue them; reap expired leases
  fetch-worker     Celery worker on the `fetch` queue (I/O bound: GOVINGEST_FETCH_CONCURRENCY threads)
  process-worker   Celery worker on the `process` queue (CPU bound: one prefork child; scale replicas)
  flower           Flower, the Celery monitoring web UI, on port 5555 (needs FLOWER_BASIC_AUTH)
  crawl            one in-process crawl of the sites file (no Redis), then exit (3: a site failed)
  govingest        any govingest command, e.g. `govingest status`
  healthcheck      exit 0 when this container's role is healthy (Docker HEALTHCHECK, k8s probes)
  help             this text

Every role but help and healthcheck first validates the settings and the URLs it needs
(DATABASE_URL, REDIS_URL): exit 78 with one line per bad or missing variable. A container
never starts an embedded PostgreSQL or Redis.
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
    url = Settings.from_env().database_url
    if not url:
        sys.exit("dispatcher unhealthy: DATABASE_URL is not set")
    with connect(url, connect_timeout=5) as conn:
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

# What each role needs before it may start (tests/deploy parse it, one role per line).
# Flower talks only to the broker: it is never given the database password.
# --- required settings ---
case "$role" in
    migrate)        required="DATABASE_URL" ;;
    dispatcher)     required="DATABASE_URL REDIS_URL" ;;
    fetch-worker)   required="DATABASE_URL REDIS_URL" ;;
    process-worker) required="DATABASE_URL REDIS_URL" ;;
    flower)         required="REDIS_URL" ;;
    crawl)          required="DATABASE_URL" ;;
    govingest)      required="" ;;
    *)
        echo "govingest-entrypoint: unknown role '$role'; run with 'help' to list the roles" >&2
        exit 64 ;;
esac
# --- end required settings ---

case " $* " in
    *" --help "*|*" -h "*) ;;  # help needs no configuration
    *)
        checks=""
        for name in $required; do checks="$checks --require $name"; done
        # shellcheck disable=SC2086  # one word per option
        govingest config --validate $checks || exit "$EX_CONFIG"
        if [ "$role" = flower ] && [ -z "${FLOWER_BASIC_AUTH:-}" ] && [ -z "${FLOWER_AUTH:-}" ]; then
            echo "govingest-entrypoint: flower: FLOWER_BASIC_AUTH is not set (user:password; or FLOWER_AUTH with" \
                 "an OAuth provider): Flower can revoke tasks and shut workers down, so it never starts" \
                 "without authentication" >&2
            exit "$EX_CONFIG"
        fi ;;
esac

# --- role table (tests/deploy parse it: one role per line, `ROLE) set -- COMMAND "$@" ;;`) ---
# Workers send heartbeats and task events (Flower shows them online and their tasks); gossip
# and mingle stay off: every worker would subscribe to every other's events (traffic grows
# with the square of the fleet) and wait a second at start to sync state nobody reads.
case "$role" in
    migrate)        set -- govingest migrate "$@" ;;
    dispatcher)     set -- govingest dispatch "$@" ;;
    fetch-worker)   set -- celery -A govingest.workers.fleet.app worker --queues fetch --pool threads --concurrency "$(govingest config --get GOVINGEST_FETCH_CONCURRENCY)" --prefetch-multiplier 4 --hostname fetch@%h --task-events --without-gossip --without-mingle "$@" ;;
    process-worker) set -- celery -A govingest.workers.fleet.app worker --queues process --pool prefork --concurrency 1 --hostname process@%h --task-events --without-gossip --without-mingle "$@" ;;
    flower)         set -- celery -A govingest.workers.fleet.app flower --address=0.0.0.0 --port=5555 "$@" ;;
    crawl)          set -- govingest crawl "$@" ;;
    govingest)      set -- govingest "$@" ;;
esac
# --- end role table ---

echo "$role" >"$ROLE_FILE" 2>/dev/null || true
exec "$@"
