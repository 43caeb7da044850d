#!/usr/bin/env bash
# Installs what the scale-out tests (tests/scaleout/) start on loopback: a PostgreSQL server,
# its Python driver, and llama-cpp-python's OpenAI-compatible server extras. The Chroma server (`chroma run`)
# ships with chromadb. Safe to run again. Usage: sudo scripts/ci-services.sh [path/to/venv]
set -euo pipefail

VENV="${1:-$(dirname "$0")/../.venv}"
PIP="$VENV/bin/pip"

have_pg_ctl() {
    command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1
}

if ! have_pg_ctl; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL is missing: run this script as root (it calls apt-get install -y postgresql)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends postgresql
fi
# The tests run the cluster as the `postgres` system user when they run as root.
command -v runuser >/dev/null 2>&1 || { echo "runuser (util-linux) is missing" >&2; exit 1; }

# Exact pins, as in pyproject's optional extras.
"$PIP" install -q "psycopg[binary]==3.3.9" "sse-starlette==3.7.0" "starlette-context==0.3.6"

"$VENV/bin/python" - <<'PY'
import psycopg, llama_cpp.server.app, chromadb  # noqa: F401
print("scale-out test services ready: psycopg", psycopg.__version__, "chromadb", chromadb.__version__)
PY
