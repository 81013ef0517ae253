"""What our list screens add to FAB's: the user's last sort kept, and cells that do not wrap.

- FAB sorts a list by the ``_oc_<View>``/``_od_<View>`` arguments of the request,
  so a sort is lost as soon as the user opens the list from the menu again. The
  last sort the user chose on each list (a column header clicked on that list: the
  request comes from the list's own page) is kept in the session; a list opened
  without order arguments is redirected to the same URL with them, so the column
  headers, the pages and the export buttons all follow it. Links that bring their
  own sort (the dashboard's "expiring soon") are followed but not remembered.
  ``_od_<View>=default`` goes back to the screen's own order (the "Default order"
  link) and forgets the choice.
- ``nowrap_columns``: cells that must stay on one line (a policy or phone number
  broken mid-value reads as two values), with Bootstrap's ``text-nowrap``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import flash, redirect, request, session
from flask_appbuilder import expose
from flask_appbuilder.exceptions import FABException
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_order_args
from flask_appbuilder.widgets import ListWidget
from werkzeug.wrappers import Response

# Session key: {view class name: [column, direction]}.
LIST_ORDERS = "list_orders"
DEFAULT_ORDER = "default"


class CellClassListWidget(ListWidget):
    """FAB's list table, with the ``nowrap_columns`` cells kept on one line."""

    template = "screens/list_widget.html"


class ListScreen:
    """A mixin for ModelViews (before ModelView in the bases)."""

    list_widget = CellClassListWidget
    nowrap_columns: tuple[str, ...] = ()
    order_columns: list[str]
    list_template: str
    list_title: Any

    @expose("/list/")
    @has_access
    def list(self) -> Any:
        remembered = self._remembered_order()
        if remembered is not None:
            return remembered
        self.update_redirect()  # type: ignore[attr-defined]
        try:
            widgets = self._list()  # type: ignore[attr-defined]
        except FABException as exc:  # as FAB's own list()
            flash(f"An error occurred: {exc}", "warning")
            return redirect(self.get_redirect())  # type: ignore[attr-defined]
        return self.render_template(  # type: ignore[attr-defined]
            self.list_template,
            title=self.list_title,
            widgets=widgets,
            default_order_url=self._default_order_url(),
            refresh_seconds=self.refresh_seconds(_page_rows(widgets)),
        )

    def refresh_seconds(self, rows: list[dict[str, Any]]) -> int | None:
        """Reload the page after this many seconds while its rows are still changing
        (a meta refresh: no script, so nothing for the CSP to allow); None: never."""
        return None

    def _get_list_widget(self, *args: Any, **kwargs: Any) -> Any:
        # Related lists (a client's policies) go through here too.
        kwargs.setdefault("nowrap_columns", self.nowrap_columns)
        return super()._get_list_widget(*args, **kwargs)  # type: ignore[misc]

    # --- the remembered sort ---------------------------------------------------
    def _remembered_order(self) -> Response | None:
        """Remember a sort chosen now; apply the remembered one to a list opened without."""
        name = type(self).__name__
        orders = dict(session.get(LIST_ORDERS) or {})
        if request.args.get(f"_od_{name}") == DEFAULT_ORDER:
            if orders.pop(name, None) is not None:
                session[LIST_ORDERS] = orders
            return None
        chosen = get_order_args().get(name)
        if chosen is not None:
            # A column that cannot sort this list is refused later (400), never kept.
            if (
                chosen[0] in self.order_columns
                and _from_this_page()
                and orders.get(name) != list(chosen)
            ):
                orders[name] = list(chosen)
                session[LIST_ORDERS] = orders
            return None
        stored = orders.get(name)
        if not _valid(stored, self.order_columns):
            return None
        args = [
            (key, value)
            for key, value in request.args.items(multi=True)
            if key not in (f"_oc_{name}", f"_od_{name}")
        ]
        args += [(f"_oc_{name}", stored[0]), (f"_od_{name}", stored[1])]
        return redirect(f"{request.path}?{urlencode(args)}")

    def _default_order_url(self) -> str | None:
        """The list as it is, in the screen's own order; None when it is in that order."""
        name = type(self).__name__
        if name not in get_order_args():
            return None
        args = [
            (key, value)
            for key, value in request.args.items(multi=True)
            if key not in (f"_oc_{name}", f"_od_{name}")
        ]
        args.append((f"_od_{name}", DEFAULT_ORDER))
        return f"{request.path}?{urlencode(args)}"


def _page_rows(widgets: dict[str, Any]) -> list[dict[str, Any]]:
    """The values of the rows on this page (FAB's list widget holds them)."""
    args = getattr(widgets.get("list"), "template_args", None)
    if args is None:
        return []
    # FAB gives a generator: read it once, and hand the widget the list.
    rows = args["value_columns"] = list(args.get("value_columns") or [])
    return rows


def _from_this_page() -> bool:
    """Does the request come from this same screen (a header of the list clicked)?"""
    referrer = urlsplit(request.referrer or "")
    return referrer.path == request.path and referrer.netloc in ("", request.host)


def _valid(stored: Any, order_columns: list[str]) -> bool:
    return (
        isinstance(stored, list)
        and len(stored) == 2
        and stored[0] in order_columns
        and stored[1] in ("asc", "desc")
    )
