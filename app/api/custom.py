"""Base classes of the API's custom doors (jobs, reports, links, imports), beside
the model resources of app/api/base.py."""

from __future__ import annotations

from apispec import APISpec
from flask import current_app
from flask_appbuilder.api import BaseApi

from app.api.base import bearer_request
from app.api.openapi import fix_error_responses, fix_resource_paths


class BearerFirstApi(BaseApi):
    @property
    def allow_browser_login(self) -> bool:
        # As the resource APIs (app/api/base.py): a Bearer token is verified first.
        return not bearer_request()


class CustomApi(BearerFirstApi):
    """A door with a route base of its own: its spec gets the resources' fixes."""

    def add_apispec_components(self, api_spec: APISpec) -> None:
        super().add_apispec_components(api_spec)
        fix_error_responses(api_spec)

    def add_api_spec(self, api_spec: APISpec) -> None:
        super().add_api_spec(api_spec)
        fix_resource_paths(
            api_spec,
            self.route_base,
            api_key_enabled=current_app.config.get("FAB_API_KEY_ENABLED", False),
        )
