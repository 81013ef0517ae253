#!/bin/sh
# Container entry point (Dockerfile).
#   web (default): migrate, sync roles and permissions, load the built-in templates (and
#                  their new versions), then exec gunicorn.
#   worker:        exec the Huey consumer (stop it with SIGINT to let tasks finish).
#   anything else: exec'd as given, e.g. "flask monassurance create-admin --username admin".
# exec keeps the server as PID 1, so `docker stop` signals reach it directly.
set -eu

case "${1:-web}" in
    web)
        flask db upgrade
        flask monassurance sync-roles
        flask monassurance load-templates
        exec gunicorn -c gunicorn.conf.py wsgi:app
        ;;
    worker)
        exec huey_consumer app.tasks.huey -w "${HUEY_WORKERS:-2}"
        ;;
    *)
        exec "$@"
        ;;
esac
