#!/usr/bin/env bash
# Installs the partner clients' dependencies (PyPI and npm only). Idempotent: a no-op
# taking well under a second when everything is already installed.
#   bash tests/clients/setup.sh        (from the repository root, or from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Several test processes may call this at once: one installs, the others
# wait for it, then find everything in place.
exec 9>"$here/.setup.lock"
flock 9

# --- Python: venv in python/.venv with requirements.txt installed ---------------------
venv="$here/python/.venv"
stamp="$venv/.requirements-installed"   # copy of the requirements last installed
if ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  echo "setup: creating $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
if ! cmp -s "$here/python/requirements.txt" "$stamp"; then
  echo "setup: pip install -r python/requirements.txt"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"
  cp "$here/python/requirements.txt" "$stamp"
fi

# --- Node: node_modules from package-lock.json ----------------------------------------
node_dir="$here/node"
marker="$node_dir/node_modules/.package-lock.json"   # written by npm ci
if [ ! -f "$marker" ] || [ "$node_dir/package-lock.json" -nt "$marker" ]; then
  echo "setup: npm ci in node/"
  npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error
fi
