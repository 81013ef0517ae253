"""`/health` (the process answers) and `/health/db` (its dependencies answer)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from app.extensions import db

health = Blueprint("health", __name__)


@health.get("/health")
def liveness() -> ResponseReturnValue:
    return jsonify(status="ok")


@health.get("/health/db")
def readiness() -> ResponseReturnValue:
    database_ok = database_is_up()
    redis_ok = redis_is_up()
    healthy = database_ok and redis_ok is not False
    body = {"status": "ok" if healthy else "degraded", "database": database_ok, "redis": redis_ok}
    return jsonify(body), 200 if healthy else 503


def database_is_up() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "down" to a probe
        current_app.logger.warning("health: database unreachable", exc_info=True)
        db.session.rollback()
        return False


def redis_is_up() -> bool | None:
    """True/False when Redis is configured, None when it is not used."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        current_app.logger.warning("health: redis unreachable")
        return False
