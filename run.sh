#!/usr/bin/env bash
# Debrief's two commands (see README):
#   ./run.sh          install everything (venv, packages, bundled models, database) and start Debrief
#   ./run.sh test     install everything, then run the whole test suite (what CI runs)
# Extra arguments after "test" go to pytest. Built wheels (llama-cpp-python compiles once, ~8 min on
# 2 cores) are cached by pip under ~/.cache/pip; assembled models under ~/.cache/debrief.
set -euo pipefail
cd "$(dirname "$0")"

VENV=${DEBRIEF_VENV:-.venv}
PY=${PYTHON:-python3}

system_packages() {
  # Programs the tests use to make audio and drive a browser; installed from Debian when missing.
  local wanted=("$@") missing=()
  for pair in "${wanted[@]}"; do
    # shellcheck disable=SC2206
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=(${pair##*:})
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

cpu_key() {
  # llama-cpp-python compiles for this CPU (-march=native): a wheel cached on an AVX-512 machine would crash with
  # an illegal instruction on one without it, so the pip cache is kept per instruction-set level.
  local flags
  flags=$(grep -o -w -E 'avx512f|avx512_vnni|avx2|avx' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' '-')
  echo "$(uname -m)-${flags:-generic}" | sed 's/-$//'
}

install_python() {
  export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip/$(cpu_key)}"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip wheel
  # constraints.txt pins every transitive package to the versions the tests ran with.
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[test]"
  "$VENV/bin/debrief" models prepare
  "$VENV/bin/debrief" db upgrade
}

case "${1:-serve}" in
  test)
    shift
    system_packages "espeak-ng:espeak-ng" "sox:sox libsox-fmt-all" "chromium:chromium"
    install_python
    bash scripts/ci-services.sh "$VENV"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  serve|"")
    install_python
    exec "$VENV/bin/debrief" serve
    ;;
  *)
    echo "usage: ./run.sh [test [pytest args…]]" >&2
    exit 64
    ;;
esac
