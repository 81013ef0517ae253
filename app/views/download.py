"""The public download of a signed link: ``GET /d/<token>``, no login: the signature is the key.

A plain blueprint, outside FAB's security (no session, no permission) and
exempt from CSRF (it only reads). The service (app/services/links/redeem.py)
checks the link and audits; this door answers:

- success: the original bytes as an attachment, streamed in chunks, with an
  RFC 6266 file name built from our data, X-Checksum (sha256) and headers that
  keep proxies and browsers from caching it or running it as part of our site;
- a refusal: its status (403, 404, 410, 503) and a clear message, as JSON or a
  tiny HTML page depending on ``Accept``;
- too many downloads: 429 with Retry-After (RATELIMIT_LINK_DOWNLOAD, counted
  per link and per IP address, in the limiter's storage: memory or Redis).

HEAD checks a link without spending it (mail scanners probe links).
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from app.api.files import content_disposition
from app.api.limits import ip_key
from app.extensions import csrf, db, limiter
from app.services import links
from app.services.links.tokens import fingerprint

log = logging.getLogger(__name__)

download = Blueprint("download", __name__)
# A downloaded HTML document must never run as a page of our site, whatever a browser does.
DOWNLOAD_CSP = "default-src 'none'; sandbox"
PRIVATE_HEADERS = {
    "Cache-Control": "no-store, private",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # The token is in the URL: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def link_download_limit() -> str:
    return current_app.config["RATELIMIT_LINK_DOWNLOAD"]


def link_download_ip_limit() -> str:
    # The same setting, as its own function: each limit below keeps its own counter.
    return current_app.config["RATELIMIT_LINK_DOWNLOAD"]


def link_key() -> str:
    """One counter per link (a digest of the token, so the counter store never holds it)."""
    token = (request.view_args or {}).get("token", "")
    return f"link:{fingerprint(token)}"


@download.route("/d/<token>", methods=["GET"])
@limiter.limit(link_download_limit, key_func=link_key)
@limiter.limit(link_download_ip_limit, key_func=ip_key)
def download_link(token: str) -> Response:
    try:
        result = links.redeem_link(db.session, token, with_data=request.method != "HEAD")
    except links.LinkRefusedError as refusal:
        return _refusal(refusal.status, str(refusal.message))
    except links.KeyConfigError:
        return _refusal(503, _("Signed links are not available right now."))
    response = Response(
        result.chunks if result.chunks is not None else b"",
        status=200,
        direct_passthrough=True,
    )
    headers = response.headers
    headers["Content-Type"] = result.media_type  # exactly the stored type, no charset added
    headers["Content-Length"] = str(result.size)
    headers["Content-Disposition"] = content_disposition("attachment", result.file_name)
    headers["X-Checksum"] = result.sha256
    headers["Content-Security-Policy"] = DOWNLOAD_CSP
    headers.update(PRIVATE_HEADERS)
    return response


def _refusal(status: int, message: str, **headers: str) -> Response:
    """JSON for scripts, a tiny page for people; the status and message are what matter."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if best == "text/html":
        page = render_template(
            "links/refused.html", message=message, status=status, lang=str(get_locale() or "fr")
        )
        response = Response(page, status=status, mimetype="text/html")
    else:
        response = jsonify(message=message)
        response.status_code = status
    response.headers.update(PRIVATE_HEADERS)
    response.headers.update(headers)
    return response


@download.errorhandler(429)
def too_many_downloads(error: TooManyRequests) -> Response:
    # flask-limiter adds Retry-After to this answer.
    log.info("link download rate limited: %s", error.description)
    return _refusal(429, _("Too many downloads through this link: try again in a minute."))


# "/d/<token>" at the start of a logged path or inside a logged request line.
_TOKEN_IN_PATH = re.compile(r"(^|\s)/d/[^\s?\"]+")
REDACTED_PATH = r"\1/d/[link]"
# The app's request log (app/ops/requests.py) and the development server's access log.
REQUEST_LOGGERS = ("monassurance.request", "werkzeug")


class RedactLinkTokens(logging.Filter):
    """Keep link tokens out of the logs: a token is a credential until it expires."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(REDACTED_PATH, arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        path = getattr(record, "path", None)
        if isinstance(path, str):
            record.path = _TOKEN_IN_PATH.sub(REDACTED_PATH, path)
        return True


def init_download() -> None:
    """Serve /d/<token> on the app being built; it only reads, its credential is the token."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    app.register_blueprint(download)
    csrf.exempt(download)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())
