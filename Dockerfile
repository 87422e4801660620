# The Azərsu bot: one image for polling and webhook workers (chosen by the settings).
# Checked by hadolint (tests/deploy/test_dockerfile.py); the base image is a tag, not a
# digest, so a rebuild picks up Debian's and CPython's security fixes of 3.12.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: exactly the locked tree,
# every file checked against its hash, wheels only (nothing is compiled in the image).
COPY requirements.lock ./
RUN pip install --require-hashes --only-binary=:all: -r requirements.lock

# The project itself (it ships no importable package: this records its metadata), with the
# build backend from the lock rather than whatever the index serves that day.
COPY pyproject.toml ./
RUN pip install --no-deps --no-build-isolation . \
    && rm -rf build ./*.egg-info

COPY bot.py ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY storage ./storage
COPY workflows ./workflows
COPY locales ./locales
# The sandbox (python bot.py without BOT_TOKEN) for demos; production never loads it.
COPY sandbox ./sandbox

# Catalogues are compiled at build time (the .mo files are not in git). The code stays
# root's and read-only to the bot's user, who owns only its data folder.
RUN pybabel compile -d locales -D messages \
    && groupadd --system --gid 10001 azersu \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin azersu \
    && mkdir -p /app/data \
    && chown 10001:10001 /app/data

# Numeric, so a runtime (Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE 8000

# Every worker, webhook or polling, answers GET /healthz (the database, and Redis when used)
# on its metrics listener (METRICS_HOST:METRICS_PORT, 127.0.0.1:9000 by default), or on
# LISTEN_PORT behind METRICS_TOKEN when METRICS_PORT is 0; bot.healthcheck asks wherever
# the settings serve it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]

# bot.py applies the migrations, then runs polling, or webhook when WEBHOOK_URL is set.
CMD ["python", "bot.py", "run"]
