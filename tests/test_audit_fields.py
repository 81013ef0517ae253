"""The history and the audit log name a change's fields as the object's own screen does
and show its enum values with the labels of the enum its column holds: a claim's
number is "N° de sinistre", not "Numéro de contrat"; its status a claim status, not a
contract's; a task's fields in the task screens' words; no raw column name anywhere."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import inspect, select

from app.extensions import db
from app.models import (
    AuditLog,
    Claim,
    ClaimNature,
    ClaimStatus,
    Policy,
    Task,
    TaskPriority,
    TaskStatus,
)
from app.services import audit
from app.services.claims import lifecycle
from app.views.audit_fields import DETAIL_LABELS, field_vocabulary
from app.views.labels import COLUMN_LABELS
from tests.conftest import user_organisation
from tests.screens_walk_support import read_page
from tests.test_screens_support import counted_queries
from tests.test_screens_words import data_words, english_on_page

# Audited by their use cases (audit.record), not by the flush: their columns show too.
RECORDED_TYPES = ("PremiumNotice", "Remittance", "CommissionStatement")


@pytest.fixture
def manager(app, make_user, login):
    user = make_user("MANAGER")
    login(user)
    return user


def _labels(raw: str) -> list[str]:
    """The field labels of the changes shown on a page (bold, before the values)."""
    return [re.sub(r"<[^>]+>", "", label) for label in re.findall(r"<strong>(.*?)</strong>", raw)]


def _changed_claim(app, organisation_id: int, policy_id: int) -> int:
    with app.app_context():
        session = db.session
        policy = session.get(Policy, policy_id)
        claim = lifecycle.record_claim(
            session,
            policy,
            today=dt.date(2026, 3, 10),
            nature="water_damage",
            occurred_on=dt.date(2026, 3, 1),
        )
        session.commit()
        session.refresh(claim)  # the values before are loaded, as a screen's edit has them
        claim.status = ClaimStatus.open
        claim.nature = ClaimNature.theft
        claim.occurred_on = dt.date(2026, 2, 27)  # known on the 1st: not after
        claim.number = "SIN-TEST-9"
        session.commit()
        return claim.id


def test_a_claims_history_speaks_the_claim_screens_words(app, http, manager, portfolio):
    organisation_id = user_organisation(app, manager)
    records = portfolio(organisation_id, "H1")
    claim_id = _changed_claim(app, organisation_id, records["policy"])
    raw = http.get(f"/history/claim/{claim_id}").get_data(as_text=True)
    labels = _labels(raw)
    assert "N° de sinistre" in labels and "Numéro de contrat" not in labels
    assert {"Statut", "Nature", "Date du sinistre", "Contrat"} <= set(labels)
    strings = read_page(raw)[0]
    visible = " ".join(strings)
    # The claim's status read in ClaimStatus ("open" is "En cours"), not PolicyStatus.
    assert "Déclaré → En cours" in visible
    assert "Dégât des eaux → Vol" in visible
    assert "01/03/2026 → 27/02/2026" in visible
    assert "→ SIN-TEST-9" in visible
    # A key reads as the object it points at: the contract's number, not its id.
    assert "Contrat : ∅ → POL-H1" in visible
    columns = {attr.key for attr in inspect(Claim).column_attrs}
    for label in labels:
        assert label not in columns and "_" not in label, label
    for raw_value in ("water_damage", "declared", "2026-02-27", " open "):
        assert raw_value not in f" {visible} ", raw_value
    assert english_on_page(strings, data_words(app, "MANAGER")) == []


def test_a_task_change_in_the_audit_log_is_in_the_task_screens_words(app, http, manager):
    organisation_id = user_organisation(app, manager)
    with app.app_context():
        task = Task(organisation_id=organisation_id, title="Rappeler", due_on=dt.date(2026, 4, 1))
        db.session.add(task)
        db.session.commit()
        db.session.refresh(task)
        task.status = TaskStatus.done
        task.priority = TaskPriority.urgent
        task.due_on = dt.date(2026, 4, 15)
        db.session.commit()
        entry_id = db.session.scalar(
            select(AuditLog.id).where(
                AuditLog.object_type == "Task",
                AuditLog.object_id == str(task.id),
                AuditLog.action == "update",
            )
        )
    raw = http.get(f"/audit/show/{entry_id}").get_data(as_text=True)
    assert set(_labels(raw)) >= {"Statut", "Priorité", "Échéance"}
    visible = " ".join(read_page(raw)[0])
    assert "À faire → Terminée" in visible or "→ Terminée" in visible
    assert "Normale → Urgente" in visible
    assert "01/04/2026 → 15/04/2026" in visible
    for raw_name in ("due_on", "priority", "urgent", "todo", "2026-04-15"):
        assert raw_name not in visible, raw_name
    # The English reader gets the same fields in English.
    http.get("/lang/en", follow_redirects=True)
    english = http.get(f"/audit/show/{entry_id}").get_data(as_text=True)
    assert {"Status", "Priority", "Due on"} <= set(_labels(english))


def test_a_key_to_another_agencys_object_shows_its_number_only(
    app, http, manager, portfolio, make_organisation
):
    organisation_id = user_organisation(app, manager)
    own = portfolio(organisation_id, "H2")
    foreign = portfolio(make_organisation(), "H3")
    with app.app_context():
        # An entry of ours pointing at their contract (it cannot happen, but must not leak).
        audit.record(
            db.session,
            "update",
            "Claim",
            1,
            {"policy_id": [own["policy"], foreign["policy"]]},
            organisation_id=organisation_id,
        )
        db.session.commit()
        entry_id = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()))
    visible = " ".join(read_page(http.get(f"/audit/show/{entry_id}").get_data(as_text=True))[0])
    assert f"Contrat : POL-H2 → #{foreign['policy']}" in visible
    assert "POL-H3" not in visible


def test_the_names_changes_point_at_are_read_once_per_type(app, http, manager, portfolio):
    organisation_id = user_organisation(app, manager)
    records = portfolio(organisation_id, "H4")

    def history_queries() -> int:
        path = f"/history/policy/{records['policy']}"
        http.get(path)  # warm FAB's per-process caches
        with counted_queries(app) as statements:
            assert http.get(path).status_code == 200
        return len(statements)

    few = history_queries()
    others = [portfolio(organisation_id, suffix) for suffix in ("H5", "H6", "H7")]
    with app.app_context():
        for other in others:  # entries naming three more clients
            audit.record(
                db.session,
                "update",
                "Policy",
                records["policy"],
                {"client_id": [records["client"], other["client"]]},
                organisation_id=organisation_id,
            )
        db.session.commit()
    assert history_queries() == few
    page = http.get(f"/history/policy/{records['policy']}").get_data(as_text=True)
    assert all(f"Jeanne Martin{suffix}" in page for suffix in ("H4", "H5", "H6", "H7"))


def test_every_audited_column_has_a_label_and_its_enum(app):
    models = {audit.object_type_name(model): model for model in audit.audited_models()}
    with app.test_request_context(), force_locale("fr"):
        for object_type in (*models, *RECORDED_TYPES):
            words = field_vocabulary(object_type)
            assert words is field_vocabulary(object_type)  # built once, not per row
            mapper = inspect(models.get(object_type) or _model(object_type))
            for attr in mapper.column_attrs:
                name = attr.key
                if name in audit.NOISE_FIELDS:
                    continue  # never recorded
                known = name in words.labels or name in COLUMN_LABELS or name in DETAIL_LABELS
                assert known, f"{object_type}.{name} has no label"
                assert "_" not in words.label(name), f"{object_type}.{name}"
                enum_class = getattr(attr.columns[0].type, "enum_class", None)
                assert words.enums.get(name) is enum_class, f"{object_type}.{name}"


def _model(object_type: str) -> type:
    import app.models as models

    return getattr(models, object_type)
