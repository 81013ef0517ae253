"""Running one use case behind an API route, with its refusals mapped once.

A custom route parses its input, calls one service function, and turns the
result into a response. ``call`` is the middle step: it runs the function in
the request's transaction and commits, and any refusal (a schema, model or
domain error, a database error) comes back as the response the base API maps it
to (OrganisationModelRestApi.commit_or_refuse).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from app.api.base import OrganisationModelRestApi

T = TypeVar("T")


def call(api: OrganisationModelRestApi, work: Callable[[], T]) -> T | Response:
    """The value ``work`` returns once committed, or the response refusing it."""
    results: list[T] = []
    refused = api.commit_or_refuse(lambda: results.append(work()))
    return refused if refused is not None else results[0]
