"""Comptabilité › Commissions: the agency's rules, statements and bordereaux on one page.

Read-only: the work (uploading a statement, matching, drafting and issuing a bordereau) is
done through /api/v1/commission_statement/ and /api/v1/remittance/ (docs/api.md); the page
links to their exports, which the browser session may download.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from app import permissions
from app.extensions import db
from app.models import CommissionRule, CommissionStatement, Remittance
from app.services.commissions.statements import summary
from app.services.scope import visible_organisation_id
from app.views.portfolio import enum_text

LIMIT = 50


def _scoped(model: Any, organisation_id: int | None) -> Any:
    query = select(model).order_by(model.id.desc()).limit(LIMIT)
    if organisation_id is not None:
        query = query.where(model.organisation_id == organisation_id)
    return query


class CommissionView(BaseView):
    route_base = "/commissions"
    class_permission_name = permissions.COMMISSION
    method_permission_name = {"list": permissions.READ}
    default_view = "list"

    @expose("/", methods=["GET"])
    @has_access
    def list(self) -> Any:
        organisation_id = visible_organisation_id()
        rules = db.session.scalars(_scoped(CommissionRule, organisation_id)).all()
        statements = [
            (statement, summary(db.session, statement.id))
            for statement in db.session.scalars(_scoped(CommissionStatement, organisation_id))
        ]
        remittances = db.session.scalars(_scoped(Remittance, organisation_id)).all()
        return self.render_template(
            "commissions/overview.html",
            rules=rules,
            statements=statements,
            remittances=remittances,
            label=enum_text,
        )
