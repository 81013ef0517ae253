"""Loading a body into a model without asking the package index on every request.

marshmallow-sqlalchemy 1.5's ``LoadInstanceMixin.Schema.load`` passes the body through
``_cast_data``, which only picks a ``typing.cast`` target (the data is returned as is)
but to do so calls ``importlib.metadata.version("marshmallow")`` on every load: a scan
of the installed distributions' metadata, about a twentieth of an API create's CPU
(docs/benchmarks.md, "The API next to a bare Flask app"). The answer cannot change
while the process runs, so the module's function is replaced by the identity it
amounts to. Nothing else of the load changes: same fields, validation, instance.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _same_data(data: Any) -> Any:
    return data


def skip_per_load_version_lookup() -> bool:
    """Replace ``_cast_data`` by the identity; False (and a warning) if the library changed."""
    from marshmallow_sqlalchemy import load_instance_mixin

    current = getattr(load_instance_mixin, "_cast_data", None)
    if current is _same_data:
        return True
    if current is None or current.__code__.co_names[:2] != ("int", "importlib"):
        # Another version of the library: leave its code alone rather than guess.
        log.warning("marshmallow_sqlalchemy._cast_data changed: version lookup left as is")
        return False
    load_instance_mixin._cast_data = _same_data
    return True
