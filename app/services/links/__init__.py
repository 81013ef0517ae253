"""Signed download links: keys, issuing, revoking, redeeming (issue 6).

- ``keys``: which key signs, which verify, rotation (``flask keys rotate``).
- ``tokens``: the token's fields and its HMAC-SHA256 signature.
- ``issue``: a link for a document the user may see (the organisation check).
- ``redeem``: the public download's checks, refusals and audit.
- ``clock``: the one clock (tests move it).
"""

from app.services.links.issue import (
    IssuedLink,
    LinkRequestError,
    LinksUnavailableError,
    issue_link,
    revoke_links,
)
from app.services.links.keys import EnvironmentKeysError, KeyConfigError
from app.services.links.redeem import LinkDownload, LinkRefusedError, redeem_link

__all__ = [
    "LinkRequestError",
    "LinksUnavailableError",
    "IssuedLink",
    "KeyConfigError",
    "EnvironmentKeysError",
    "LinkDownload",
    "LinkRefusedError",
    "issue_link",
    "redeem_link",
    "revoke_links",
]
