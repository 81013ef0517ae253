"""The purge screen (ADMIN: own organisation; SUPERADMIN: every one).

Purge runs with their reports, and two buttons: a dry run (lists, deletes nothing) and
apply, which first shows what would go and asks for confirmation. Thin door over
app.services.purge: the service scopes, finds, deletes and records.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import AnyOf

from app import permissions
from app.extensions import db
from app.models import Organisation, PurgeRun
from app.services import purge as purge_service
from app.services.errors import DomainError
from app.services.purge.items import PurgeTotals
from app.services.scope import current_user
from app.services.vocabulary import actor_label
from app.views.documents import human_size

RUNS_SHOWN = 100
ITEMS_SHOWN = 1000
CATEGORY_LABELS = {
    "orphan": _("Orphan file"),
    "orphan_attachment": _("Orphan attachment file"),
    "retention": _("Past retention"),
    "failed_document": _("Failed document"),
    "failed_job": _("Failed job"),
    "spent_links": _("Spent single-use links"),
    "anonymise": _("Client to anonymise (RGPD)"),
    "accounting": _("Accounting past legal retention"),
}
TRIGGER_LABELS = {
    "cli": _("Command line"),
    "periodic": _("Nightly task"),
    "screen": _("Screen"),
}
STATUS_LABELS = {"running": _("Running"), "done": _("Done"), "failed": _("Failed")}


class PurgeForm(FlaskForm):
    mode = HiddenField(validators=[AnyOf(["dry", "apply"])])
    # Set by the confirmation page only: applying from anywhere else shows that page first.
    confirm = HiddenField()


class PurgeView(BaseView):
    route_base = "/purge"
    class_permission_name = permissions.PURGE
    method_permission_name = permissions.SCREEN_METHODS
    default_view = "list"

    @expose("/", methods=["GET"])
    @has_access
    def list(self) -> Any:
        try:
            query = purge_service.runs_query(db.session, current_user())
        except DomainError as error:  # an account with no organisation
            flash(error.message, "danger")
            runs = []
        else:
            runs = query.order_by(PurgeRun.id.desc()).limit(RUNS_SHOWN).all()
        return self.render_template(
            "purge/runs.html",
            runs=runs,
            scopes=_scope_names(runs),
            form=PurgeForm(),
            may_purge=self.appbuilder.sm.has_access("can_write", permissions.PURGE),
            runs_shown=RUNS_SHOWN,
            **_labels(),
        )

    @expose("/<int:pk>", methods=["GET"])
    @has_access
    def show(self, pk: int) -> Any:
        # Ids beyond SQL INTEGER match no row (PostgreSQL would refuse the query).
        run = purge_service.visible_run(db.session, current_user(), pk) if pk < 2**31 else None
        if run is None:
            abort(404)  # not 403: another agency's run must not be told apart from none
        items = run.report or []
        return self.render_template(
            "purge/run.html",
            run=run,
            scope=_scope_names([run]).get(run.organisation_id),
            items=items[:ITEMS_SHOWN],
            hidden=max(0, len(items) - ITEMS_SHOWN),
            **_labels(),
        )

    @expose("/run", methods=["GET", "POST"])
    @has_access
    def purge(self) -> Response | Any:
        """GET: what applying would delete now, and a confirmation. POST: run (dry or applied)."""
        user = current_user()
        try:
            scope = purge_service.scope_for(user)
            if request.method == "GET":
                plan = purge_service.plan_purge(db.session, scope)
                return self.render_template(
                    "purge/confirm.html",
                    items=[item.as_report() for item in plan.items[:ITEMS_SHOWN]],
                    hidden=max(0, len(plan.items) - ITEMS_SHOWN),
                    totals=PurgeTotals.of_plan(plan.items),
                    form=PurgeForm(mode="apply", confirm="yes"),
                    **_labels(),
                )
            form = PurgeForm()
            if not form.validate_on_submit():
                flash(str(_("The request was refused: reload the page and try again.")), "danger")
                return redirect(url_for("PurgeView.list"))
            apply = form.mode.data == "apply"
            if apply and form.confirm.data != "yes":
                return redirect(url_for("PurgeView.purge"))
            run = purge_service.run_purge(
                db.session,
                scope=scope,
                trigger="screen",
                apply=apply,
                actor=purge_service.actor_for(user),
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("PurgeView.list"))
        flash(_run_message(run), "success")
        return redirect(url_for("PurgeView.show", pk=run.id))


def _run_message(run: PurgeRun) -> str:
    values = {
        "files": run.files_count,
        "size": human_size(run.bytes_total),
        "documents": run.documents_count,
        "jobs": run.jobs_count,
    }
    if run.applied:
        return str(
            _(
                "Purge applied: %(files)s file(s) (%(size)s), %(documents)s document(s) and "
                "%(jobs)s failed job(s) removed.",
                **values,
            )
        )
    return str(
        _(
            "Dry run: %(files)s file(s) (%(size)s), %(documents)s document(s) and %(jobs)s "
            "failed job(s) would go. Nothing was deleted.",
            **values,
        )
    )


def _scope_names(runs: list[PurgeRun]) -> dict[int | None, str]:
    """Agency names of the runs shown (one query); None is every agency."""
    ids = {run.organisation_id for run in runs if run.organisation_id is not None}
    names: dict[int | None, str] = {None: str(_("All agencies"))}
    if ids:
        rows = db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
        )
        names.update({row.id: row.name for row in rows})
    return names


def _labels() -> dict[str, Any]:
    return {
        "categories": CATEGORY_LABELS,
        "triggers": TRIGGER_LABELS,
        "statuses": STATUS_LABELS,
        "human_size": human_size,
        "actor": lambda run: actor_label(run.actor_id, run.actor_name),
    }
