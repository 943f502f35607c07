#!/bin/sh
# Installs what `make bench` needs besides wudf's own dependencies
# (scripts/install-deps.sh): Debian's python3-pandas and python3-numpy, used
# through /usr/bin/python3; Node.js (Debian's nodejs and npm, only when no
# `node` is on the PATH); and the npm packages pinned by
# bench/package-lock.json (DuckDB), installed by `npm ci` into
# bench/node_modules. Idempotent: when everything is there it does nothing
# and touches no network. Runs apt-get as root, through sudo when not root,
# and otherwise prints the command to run.
set -eu
cd "$(dirname "$0")"

PACKAGES="python3-pandas python3-numpy"
command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

missing=""
for pkg in $PACKAGES; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing="$missing $pkg"
  fi
done

if [ -n "$missing" ]; then
  echo "bench/install.sh: missing:$missing"
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
  else
    echo "bench/install.sh: not root and no sudo; as root, run:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
  fi
  # $as_root and $missing are deliberately unquoted: empty / word lists.
  # shellcheck disable=SC2086
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm keeps a copy of the lock it installed from in node_modules: an
# install newer than the lock file is up to date.
if [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bench/install.sh: npm ci (bench/package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "bench/install.sh: ready (node $(node --version))"
