# The fraudstream image (used by docker-compose.yml): the worker, the monitor, the audit and
# the one-shot model build all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, from the metadata alone: a code change reuses this (slow) layer, and only
# pyproject.toml or constraints.txt invalidate it. constraints.txt pins the versions tested here.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY schemas ./schemas
COPY models ./models
COPY stream ./stream
# Everything is installed already; this adds the project itself (and its entry point).
RUN pip install --no-deps -c constraints.txt .
# Read at run time, not installed: `model build --config /app/config/training.toml`, and the
# compose health checks' HTTP probe.
COPY config ./config
COPY ops/docker/http_ok.py ./ops/docker/http_ok.py

# Not root. /models is created here, owned by that user, so a named volume mounted on it starts
# writable for the model-build job.
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/fraudstream fraudstream \
    && install -d -o fraudstream -g fraudstream /models
USER fraudstream
ENV FRAUD_VAR_DIR=/var/lib/fraudstream

CMD ["fraudstream", "worker"]
