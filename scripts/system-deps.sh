#!/usr/bin/env bash
# What `make test` needs beyond Python: the PostgreSQL 15 server (for the
# PostgreSQL half of the suite) and Debian's Chromium (the web UI's browser
# tests, driven by Playwright with executable_path=/usr/bin/chromium; Playwright
# never downloads a browser here). Installs only what is missing, as root with
# apt-get; elsewhere it says what to install and fails.
set -euo pipefail

missing=()
have_pg=""
for dir in /usr/lib/postgresql/15/bin /usr/local/bin /usr/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then have_pg=1; break; fi
done
[ -n "$have_pg" ] || missing+=(postgresql-15)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
# promtool checks and unit-tests deploy/prometheus/'s alert rules.
command -v promtool >/dev/null || missing+=(prometheus)
# nginx -t and a real nginx in front of two servers check deploy/nginx.conf
# (tests/deploy/test_nginx.py, which runs its own nginx from a temp directory);
# openssl makes the test's self-signed certificate.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
command -v openssl >/dev/null || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: please install ${missing[*]} (Debian packages), then run make test again" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# PostgreSQL, nginx and Prometheus are packages that start a daemon on install
# (ports 5432, 80, 9090): the tests run their own, so none may start here. Debian's
# policy-rc.d says so for the length of the install; recommends (a node exporter
# beside Prometheus, desktop helpers beside Chromium) are not needed either.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
