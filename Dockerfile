# MonAssurance: one image for the web server and the Huey worker, in two targets
# that differ only by their default command and stop signal.
#   docker build -t monassurance .                       (web: the last stage, the default)
#   docker build --target worker -t monassurance-worker .
#   docker run -p 8000:8000 -e SECRET_KEY=... -v monassurance-data:/data monassurance   (web)
#   docker run --stop-timeout 120 ... monassurance-worker                              (worker)
# docker-compose.yml wires both to PostgreSQL and Redis.
#
# Bookworm, not the newer default (trixie): Debian bookworm still packages
# wkhtmltopdf, the second PDF engine (PDF_ENGINE=pdfkit; design notes §5).
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLASK_APP=wsgi:app \
    DATA_DIR=/data \
    PORT=8000 \
    LOG_JSON=true

WORKDIR /app

# The PDF engines' system libraries, from the lists scripts/run.sh installs
# (scripts/apt-packages.txt), less Python itself, which this image already has.
# The engine is chosen where the image runs (PDF_ENGINE), so wkhtmltopdf
# (scripts/apt-packages-pdfkit.txt, ~30 Qt/WebKit packages) is in by default;
# --build-arg WKHTMLTOPDF=no leaves it out of an image that will only use WeasyPrint.
ARG WKHTMLTOPDF=yes
COPY scripts/apt-packages.txt scripts/apt-packages-pdfkit.txt scripts/
RUN lists="scripts/apt-packages.txt" \
    && if [ "$WKHTMLTOPDF" = "yes" ]; then lists="$lists scripts/apt-packages-pdfkit.txt"; fi \
    && apt-get update \
    && sed -e 's/#.*//' -e 's/[[:space:]]//g' $lists \
        | grep -v -e '^$' -e '^python3' \
        | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/*

# Python dependencies: this layer is rebuilt only when requirements.txt changes.
# Every pin is a binary wheel (psycopg[binary] brings libpq): no compiler.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# The .po catalogues are compiled here so a checkout without .mo files still works.
RUN if [ -d app/translations ]; then pybabel --quiet compile -d app/translations; fi \
    && groupadd --system --gid 10001 monassurance \
    && useradd --system --uid 10001 --gid monassurance --home-dir /app \
        --shell /usr/sbin/nologin monassurance \
    && mkdir -p /data \
    && chown monassurance:monassurance /data \
    && chmod 0750 /data

USER monassurance
VOLUME ["/data"]
EXPOSE 8000

# No HEALTHCHECK here: the same image runs the worker, which serves no HTTP.
# docker-compose.yml probes the web service's /health.

ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]

# The worker. Huey finishes its running tasks on SIGINT, while SIGTERM (Docker's
# default stop signal) interrupts them: a render cut short waits for its lease to
# run out before the sweeper sends it again. Give `docker stop` time for the
# longest render (RENDER_TIMEOUT_SECONDS, 30 s by default): --stop-timeout 120.
FROM base AS worker
STOPSIGNAL SIGINT
CMD ["worker"]

# The web server, last so that a plain `docker build` makes it. gunicorn finishes
# requests in flight on SIGTERM, the default stop signal.
FROM base AS web
CMD ["web"]
