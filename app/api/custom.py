"""What every API class shares, model resources (app/api/base.py) and custom doors
(jobs, reports, links, imports) alike: Bearer-first login and the spec fixes.
A service's refusal is raised and answered once (app/api/errors.py)."""

from __future__ import annotations

from apispec import APISpec
from flask import current_app, has_request_context, request
from flask_appbuilder.api import BaseApi

from app.api.openapi import add_shared_components, fix_error_responses, fix_resource_paths


def bearer_request() -> bool:
    """Does this request carry ``Authorization: Bearer ...``?"""
    if not has_request_context():
        return False
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


class BearerFirst:
    @property
    def allow_browser_login(self) -> bool:
        """Accept the browser session, except on requests that bring a Bearer token.

        FAB's ``protect`` with browser login first checks the request as an
        anonymous one (the Public role) and only then verifies the JWT. With a
        Bearer header the token is what authenticates: verify it first (an
        invalid token answers 401). Cookie requests keep the session, and their
        writes keep the CSRF check of app/api/guards.py.
        """
        return not bearer_request()


class SpecFixes(BearerFirst):
    """An API with a route base of its own: its part of the spec gets our fixes."""

    route_base: str

    def add_apispec_components(self, api_spec: APISpec) -> None:
        super().add_apispec_components(api_spec)  # type: ignore[misc]
        fix_error_responses(api_spec)
        add_shared_components(api_spec)

    def add_api_spec(self, api_spec: APISpec) -> None:
        super().add_api_spec(api_spec)  # type: ignore[misc]
        fix_resource_paths(
            api_spec,
            self.route_base,
            api_key_enabled=current_app.config.get("FAB_API_KEY_ENABLED", False),
        )


class BearerFirstApi(BearerFirst, BaseApi):
    """A custom door whose routes share another API's route base (and its spec fixes)."""


class CustomApi(SpecFixes, BaseApi):
    """A custom door with a route base of its own."""
