"""Comptabilité › Commissions: the agency's rules, statements and bordereaux on one page.

The overview lists them; the work is done on the screens of the two mixins: a statement
uploaded, mapped, previewed, imported and its lines matched by hand
(app/views/commission_statements.py), a bordereau drafted, issued, paid and downloaded
(app/views/remittance_screens.py). The same use cases answer /api/v1/commission_statement/
and /api/v1/remittance/.
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
from app.views.commission_statements import StatementScreens
from app.views.portfolio import enum_text
from app.views.remittance_screens import RemittanceScreens

LIMIT = 50


def _scoped(model: Any, organisation_id: int | None) -> Any:
    query = select(model).order_by(model.id.desc()).limit(LIMIT)
    if organisation_id is not None:
        query = query.where(model.organisation_id == organisation_id)
    return query


class CommissionView(StatementScreens, RemittanceScreens, BaseView):
    route_base = "/commissions"
    class_permission_name = permissions.COMMISSION
    method_permission_name = {
        "list": permissions.READ,
        "statement_form": permissions.WRITE,
        "statement_upload": permissions.WRITE,
        "statement_sample": permissions.WRITE,
        "statement_preview": permissions.WRITE,
        "statement_import": permissions.WRITE,
        "statement_show": permissions.READ,
        "statement_match": permissions.WRITE,
        "statement_unmatch": permissions.WRITE,
        "statement_export": permissions.READ,
        "remittance_form": permissions.WRITE,
        "remittance_create": permissions.WRITE,
        "remittance_show": permissions.READ,
        "remittance_issue": permissions.WRITE,
        "remittance_paid": permissions.WRITE,
        "remittance_file": permissions.READ,
    }
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
