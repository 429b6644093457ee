# The fraudstream worker image (used by docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Metadata first, so a code change does not invalidate the layer's cache key for nothing else.
COPY pyproject.toml constraints.txt README.md ./
COPY schemas ./schemas
COPY models ./models
COPY stream ./stream
# constraints.txt pins the exact versions the test suite ran with.
RUN pip install -c constraints.txt .

# Not root: the worker needs nothing but its state directory.
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/fraudstream fraudstream
USER fraudstream
ENV FRAUD_VAR_DIR=/var/lib/fraudstream

CMD ["fraudstream", "worker"]
