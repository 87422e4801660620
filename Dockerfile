# The Azərsu bot: one image for polling and webhook workers (chosen by the settings).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
# The project itself ships no installable packages: this installs its dependencies.
RUN pip install .

COPY bot.py ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY storage ./storage
COPY workflows ./workflows
COPY locales ./locales
# The sandbox (python bot.py without BOT_TOKEN) for demos; production never loads it.
COPY sandbox ./sandbox

# Catalogues are compiled at build time (the .mo files are not in git).
RUN pybabel compile -d locales -D messages \
    && useradd --system --uid 10001 --home-dir /app azersu \
    && mkdir -p /app/data \
    && chown -R azersu /app/data

USER azersu
VOLUME ["/app/data"]
EXPOSE 8000

# bot.py applies the migrations, then runs polling, or webhook when WEBHOOK_URL is set.
CMD ["python", "bot.py", "run"]
