"""The landing page: links to the lists and a few counts of the user's organisation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Client, Company, Policy, PolicyStatus
from app.services.scope import current_user, visible_organisation_id
from app.services.tasks.lists import HOME_LIMIT, TaskFilters, task_rows
from app.views.dates import reader_today
from app.views.portfolio import enum_text
from app.views.tasks import ActionForm

EXPIRING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class PortfolioCounts:
    clients: int
    policies: int
    active_policies: int
    expiring_soon: int
    insurers: int


def portfolio_counts(session: Session, organisation_id: int | None) -> PortfolioCounts:
    """Five COUNTs on indexed columns (organisation_id leads every index)."""

    def count(model: type, *conditions: object) -> int:
        query = select(func.count()).select_from(model)
        if organisation_id is not None:  # None: a platform operator sees every organisation
            query = query.where(model.organisation_id == organisation_id)
        return int(session.execute(query.where(*conditions)).scalar_one())

    today = reader_today()
    horizon = today + dt.timedelta(days=EXPIRING_WITHIN_DAYS)
    return PortfolioCounts(
        clients=count(Client),
        policies=count(Policy),
        active_policies=count(Policy, Policy.status == PolicyStatus.active),
        expiring_soon=count(
            Policy,
            Policy.status == PolicyStatus.active,
            Policy.expiry_date >= today,
            Policy.expiry_date <= horizon,
        ),
        insurers=count(Company),
    )


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self) -> str:
        self.update_redirect()
        today = reader_today()
        user = current_user()
        counts = None
        tasks: list = []
        if user is not None:
            counts = portfolio_counts(db.session, visible_organisation_id(user))
            # "Mes tâches" comes first: one query, overdue first (app/services/tasks/lists.py).
            if self.appbuilder.sm.has_access("can_read", "Task") and (
                user.organisation_id is not None
            ):
                tasks = task_rows(db.session, user, today, TaskFilters(), HOME_LIMIT + 1)
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            counts=counts,
            tasks=tasks[:HOME_LIMIT],
            more_tasks=len(tasks) > HOME_LIMIT,
            task_today=today,
            task_form=ActionForm(),
            label=enum_text,
            expiring_within_days=EXPIRING_WITHIN_DAYS,
            # FAB's date filters are strict (> and <): one day outside each bound.
            expiring_after=(today - dt.timedelta(days=1)).isoformat(),
            expiring_before=(today + dt.timedelta(days=EXPIRING_WITHIN_DAYS + 1)).isoformat(),
        )
