#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL 15 server: initdb into a fresh
# directory, start on a free port over a Unix socket in that directory, export
# PHOTOCHANGER_TEST_PG_URL, run the command, always stop and remove the server.
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
set -euo pipefail

pg_bin=""
for dir in /usr/lib/postgresql/15/bin /usr/local/bin /usr/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pg_bin=$dir; break; fi
done
if [ -z "$pg_bin" ]; then
  echo "with-postgres: PostgreSQL binaries (initdb, pg_ctl) not found" >&2
  exit 1
fi

workdir=$(mktemp -d /tmp/photochanger-pg.XXXXXX)
run_as=()
if [ "$(id -u)" = "0" ]; then
  chown postgres "$workdir"
  run_as=(runuser -u postgres --)
fi
port=${PHOTOCHANGER_TEST_PG_PORT:-$(( 55000 + RANDOM % 5000 ))}

stop() {
  "${run_as[@]}" "$pg_bin/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap stop EXIT INT TERM

"${run_as[@]}" "$pg_bin/initdb" -D "$workdir/data" -U photochanger --auth=trust \
  --encoding=UTF8 --no-sync >"$workdir/initdb.log" 2>&1 || { cat "$workdir/initdb.log" >&2; exit 1; }
"${run_as[@]}" "$pg_bin/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 30 start \
  -o "-k $workdir -p $port -c listen_addresses=127.0.0.1 -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  >/dev/null || { cat "$workdir/server.log" >&2; exit 1; }

export PHOTOCHANGER_TEST_PG_URL="postgresql+asyncpg://photochanger@127.0.0.1:$port/postgres"
"$@"
