#!/usr/bin/env bash
# The README's test command: the whole suite twice.
#   leg 1: SQLite, no Redis (always);
#   leg 2: PostgreSQL + Redis (TEST_DATABASE_URL / TEST_REDIS_URL, defaults below).
# Leg 2 starts the local servers when it may (root, servers installed). If they
# still do not answer, it is skipped with a plain message, or fails the run when
# MONASSURANCE_REQUIRE_SERVICES=1 (CI). Any failure, and "no tests ran", fails.
# With two cores or more the legs run side by side (MONASSURANCE_TEST_PARALLEL=0: one
# after the other).
# Extra arguments go to pytest in both legs: scripts/test.sh -k health -x
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# What the app needs is required; the servers of leg 2 are best effort (leg 2 says
# plainly when it is skipped, unless MONASSURANCE_REQUIRE_SERVICES=1).
bash "$ROOT/scripts/install-apt-packages.sh" runtime </dev/null || exit 1
bash "$ROOT/scripts/install-apt-packages.sh" test </dev/null \
    || say "Leg 2 and the browser tests may be skipped: their Debian packages are missing (see above)."
ensure_venv requirements-dev.txt || exit 1
cd "$ROOT" || exit 1
PY="$VENV/bin/python"

DEFAULT_PG_URL="postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379/15"
PG_URL="${TEST_DATABASE_URL:-$DEFAULT_PG_URL}"
REDIS_URL_BASE="${TEST_REDIS_URL:-$DEFAULT_REDIS_URL}"
REQUIRE_SERVICES="${MONASSURANCE_REQUIRE_SERVICES:-0}"
# One value for this run, so the Redis database it claims is released by it alone.
MONASSURANCE_TEST_RUN="$(hostname 2>/dev/null || echo local):$$:$RANDOM"
export MONASSURANCE_TEST_RUN

REPORTS="$(mktemp -d "${TMPDIR:-/tmp}/monassurance-tests.XXXXXX")"
REDIS_CLAIMED=""

cleanup() {
    if [ -n "${LEG2_PID:-}" ]; then
        pkill -TERM -P "$LEG2_PID" 2>/dev/null
        kill -TERM "$LEG2_PID" 2>/dev/null
        wait "$LEG2_PID" 2>/dev/null
    fi
    if [ -n "$REDIS_CLAIMED" ]; then
        "$PY" scripts/services.py redis-release "$REDIS_CLAIMED" >/dev/null 2>&1 || true
    fi
    rm -rf "$REPORTS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hide a password in a URL before printing it.
masked() { printf '%s' "$1" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }

wait_until() {
    local tries=40
    while [ "$tries" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        tries=$((tries - 1))
        sleep 0.5
    done
    return 1
}

pg_ready() { "$PY" scripts/services.py pg-ready "$PG_URL"; }
redis_ready() { "$PY" scripts/services.py redis-ready "$REDIS_URL_BASE"; }

# The start commands of this project's machines; only for the default local URLs.
start_postgresql() {
    [ "$PG_URL" = "$DEFAULT_PG_URL" ] && is_root || return 1
    command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] || return 1
    local version
    version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"
    [ -n "$version" ] || return 1
    say "PostgreSQL is not answering: starting cluster $version/main."
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    wait_until pg_ready
}

start_redis() {
    [ "$REDIS_URL_BASE" = "$DEFAULT_REDIS_URL" ] && is_root || return 1
    command -v redis-server >/dev/null 2>&1 || return 1
    say "Redis is not answering: starting redis-server on 127.0.0.1:6379."
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 || true
    wait_until redis_ready
}

# leg_status NAME STATUS SECONDS: recorded for scripts/summarise.py.
leg_status() { printf '%s %s %s\n' "$1" "$2" "$3" >"$REPORTS/$1.status"; }

run_leg() {
    local name="$1" started=$SECONDS status
    shift
    "$@"
    status=$?
    leg_status "$name" "$status" "$((SECONDS - started))"
    return "$status"
}

# Leg 2 needs PostgreSQL and Redis: find (or start) them before anything runs.
unreachable=""
pg_ready 2>/dev/null || start_postgresql || unreachable="$(masked "$PG_URL")"
if ! redis_ready 2>/dev/null && ! start_redis; then
    unreachable="${unreachable:+$unreachable, }$(masked "$REDIS_URL_BASE")"
fi
leg2_problem="${unreachable:+not reachable at $unreachable}"
if [ -z "$leg2_problem" ]; then
    if [ -n "${TEST_REDIS_URL:-}" ]; then
        leg2_redis="$TEST_REDIS_URL"  # the caller chose a database: use it as given
    elif REDIS_CLAIMED="$("$PY" scripts/services.py redis-claim "$REDIS_URL_BASE")"; then
        leg2_redis="$REDIS_CLAIMED"
    else
        REDIS_CLAIMED=""
        leg2_problem="no free Redis database at $(masked "$REDIS_URL_BASE")"
    fi
fi

leg_sqlite() {
    run_leg sqlite env -u TEST_DATABASE_URL -u TEST_REDIS_URL -u DATABASE_URL -u REDIS_URL \
        "$PY" -m pytest --junitxml="$REPORTS/sqlite.xml" "$@"
}

# The whole suite runs the browser tests in leg 1 only (the screens' queries are
# checked on both databases by the test-client tests), and so the process tests that
# the database does not change (marker one_leg). Tests named in the arguments run in
# both legs.
leg_postgresql() {
    local only=()
    [ "$#" -gt 0 ] || only=(-m "not browser and not one_leg")
    run_leg postgresql env -u DATABASE_URL -u REDIS_URL \
        TEST_DATABASE_URL="$PG_URL" TEST_REDIS_URL="$leg2_redis" \
        "$PY" -m pytest "${only[@]}" --junitxml="$REPORTS/postgresql.xml" "$@"
}

# The legs share nothing (SQLite in a temporary folder; a PostgreSQL schema and a
# Redis database of their own), so with two cores or more they run side by side:
# leg 1 prints as it goes, leg 2's output follows when both are done.
cores="$(nproc 2>/dev/null || echo 1)"
parallel="${MONASSURANCE_TEST_PARALLEL:-$([ "$cores" -ge 2 ] && echo 1 || echo 0)}"
overall=0
LEG2_PID=""

if [ -z "$leg2_problem" ]; then
    say "leg postgresql: $(masked "$PG_URL") (a fresh schema for this run), $(masked "$leg2_redis")"
    if [ "$parallel" = "1" ]; then
        leg_postgresql "$@" >"$REPORTS/postgresql.log" 2>&1 &
        LEG2_PID=$!
        printf '\n===== leg sqlite (leg postgresql runs alongside; its output follows) =====\n'
        leg_sqlite "$@" || overall=1
        wait "$LEG2_PID" || overall=1
        LEG2_PID=""
        printf '\n===== leg postgresql =====\n'
        cat "$REPORTS/postgresql.log"
    else
        printf '\n===== leg sqlite =====\n'
        leg_sqlite "$@" || overall=1
        printf '\n===== leg postgresql =====\n'
        leg_postgresql "$@" || overall=1
    fi
else
    printf '\n===== leg sqlite =====\n'
    leg_sqlite "$@" || overall=1
    if [ "$REQUIRE_SERVICES" = "1" ]; then
        printf '\nERROR: PostgreSQL/Redis leg cannot run (%s), ' "$leg2_problem" >&2
        printf 'and MONASSURANCE_REQUIRE_SERVICES=1 requires it.\n' >&2
        leg_status postgresql unreachable 0
        overall=1
    else
        printf '\nSKIPPED: PostgreSQL/Redis leg (%s)\n' "$leg2_problem"
        leg_status postgresql skipped 0
    fi
fi

cat "$REPORTS/sqlite.status" "$REPORTS/postgresql.status" >"$REPORTS/legs" 2>/dev/null
"$PY" scripts/summarise.py "$REPORTS" || overall=1
exit "$overall"
