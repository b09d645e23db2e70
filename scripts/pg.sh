#!/usr/bin/env bash
# A throwaway PostgreSQL server for the origin's tests.
#
#   eval "$(scripts/pg.sh start)"       # prints export lines: JWTEDGE_TEST_DATABASE_URL, JWTEDGE_TEST_PG_DIR,
#                                       # JWTEDGE_TEST_PG_CA, JWTEDGE_TEST_PG_TLS_USER
#   scripts/pg.sh stop "$JWTEDGE_TEST_PG_DIR"
#
# Uses the newest /usr/lib/postgresql/*/bin (installs Debian's `postgresql` package if there is
# none), initdb into a fresh temp directory (as the `postgres` user when run as root), listens
# on a free loopback port only, trust authentication (loopback, throwaway data), fsync off.
# TLS is on (tests/origin_postgres_tls.rs): a throwaway CA and a server certificate for the
# name `localhost` only (not 127.0.0.1), made with openssl in the temp directory; the CA
# certificate's path is exported. The role JWTEDGE_TEST_PG_TLS_USER may connect over TLS only
# (pg_hba `hostnossl … reject`); everything else connects with or without TLS as before.
# Progress goes to stderr; stdout carries only the export lines.
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
start)
  bin=$(find_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg.sh: no PostgreSQL server binaries; installing Debian's postgresql package" >&2
    if [ "$(id -u)" != 0 ]; then echo "pg.sh: need root to apt-get install postgresql" >&2; exit 1; fi
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    bin=$(find_bin)
  fi
  dir=$(mktemp -d /tmp/jwtedge-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  tls="$dir/tls"
  mkdir -p "$tls"
  (
    cd "$tls"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout ca.key -out ca.crt -days 3 -subj "/CN=jwtedge throwaway test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3 \
      -extfile server.ext -out server.crt
    rm -f ca.key server.csr ca.srl
    chmod 600 server.key
  ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$tls"; fi
  hba="$dir/data/pg_hba.conf"
  as_pg sh -c "{ echo 'hostnossl all jwtedge_tls_only all reject'; cat '$hba'; } >'$hba.new' && mv '$hba.new' '$hba'"
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
         -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" \
         start >&2; then
      break
    fi
    [ "$attempt" = 5 ] && { cat "$dir/server.log" >&2; exit 1; }
  done
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres jwtedge_test >&2
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc \
    "CREATE ROLE jwtedge_tls_only LOGIN SUPERUSER" >&2
  echo "pg.sh: PostgreSQL on 127.0.0.1:$port, data in $dir" >&2
  echo "export JWTEDGE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/jwtedge_test"
  echo "export JWTEDGE_TEST_PG_DIR=$dir"
  echo "export JWTEDGE_TEST_PG_CA=$tls/ca.crt"
  echo "export JWTEDGE_TEST_PG_TLS_USER=jwtedge_tls_only"
  ;;
stop)
  dir=${2:?usage: pg.sh stop DIR}
  bin=$(find_bin)
  if [ -d "$dir/data" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  case "$dir" in /tmp/jwtedge-pg.*) rm -rf "$dir" ;; esac
  ;;
*)
  echo "usage: eval \"\$(scripts/pg.sh start)\"; ...; scripts/pg.sh stop \"\$JWTEDGE_TEST_PG_DIR\"" >&2
  exit 2
  ;;
esac
