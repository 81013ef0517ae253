"""The landing page after login."""

from __future__ import annotations

from flask_appbuilder import IndexView


class HomeView(IndexView):
    index_template = "home.html"
