#!/bin/sh
# The lab's stand-in for docker.io/library/postgres:17's entrypoint, for what the
# collection uses: on the first start (empty PGDATA) initdb as user postgres with
# POSTGRES_USER/POSTGRES_PASSWORD(_FILE)/POSTGRES_DB, listen on every address, password
# (scram-sha-256) over TCP and trust on the local socket; then exec the server as postgres.
# A command other than `postgres` (or a flag) runs as given, as the official image does.
set -eu

case "${1:-postgres}" in
    -*) set -- postgres "$@" ;;
    postgres) ;;
    *) exec "$@" ;;
esac
[ "$#" -gt 0 ] || set -- postgres

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        POSTGRES_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
    fi
    user="${POSTGRES_USER:-postgres}"
    db="${POSTGRES_DB:-$user}"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
        echo "error: the database is uninitialized and POSTGRES_PASSWORD is not set" >&2
        echo "       (set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" -D "$PGDATA" >/dev/null
    else
        initdb --username="$user" --auth-local=trust --auth-host="$auth" -D "$PGDATA" >/dev/null
    fi
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
    if [ "$db" != postgres ]; then
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
        psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -q -c "CREATE DATABASE \"$db\""
        pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
