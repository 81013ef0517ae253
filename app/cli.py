"""`flask monassurance …` commands for operators.

At deploy: `flask db upgrade` then `flask monassurance sync-roles`; once:
`flask monassurance create-admin --username NAME`; to check the worker:
`flask monassurance ping-worker`; to add the built-in document templates
(run.py does it at each start): `flask monassurance load-templates`.
"""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

monassurance = AppGroup("monassurance", help="MonAssurance operations.")


def register_cli(app: Flask) -> None:
    from app.cli_keys import keys
    from app.cli_purge import purge_command

    app.cli.add_command(monassurance)
    app.cli.add_command(keys)  # `flask keys rotate|list`: download-link signing keys
    app.cli.add_command(purge_command)  # `flask purge [--apply]`: files past their time


@monassurance.command("sync-roles")
def sync_roles_command() -> None:
    """Create or update the four roles and their permissions."""
    from app.services.roles import sync_roles

    sync_roles(current_app.appbuilder)
    click.echo("roles and permissions synced")


@monassurance.command("create-admin")
@click.option("--username", required=True, help="Login of the new administrator.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for (hidden) when not given; avoid passing it on a shared machine.",
)
@click.option(
    "--organisation-id",
    type=click.IntRange(min=1),
    default=None,
    help="Organisation the administrator belongs to (none: platform operator).",
)
def create_admin_command(username: str, password: str, organisation_id: int | None) -> None:
    """Create a SUPERADMIN account."""
    from flask_babel import force_locale

    from app.services.accounts import AccountError, create_admin

    try:
        # The password policy speaks the UI's language; operator commands speak English.
        with force_locale("en"):
            create_admin(current_app.appbuilder, username, password, organisation_id)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"administrator {username.strip()!r} created")


@monassurance.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo organisation and its portfolio (does nothing if it is there)."""
    from app.extensions import db
    from app.services.demo import demo_organisation_id, load_demo_data

    summary = load_demo_data(db.session)
    if summary is None:
        click.echo(
            f"the demo organisation exists already (id {demo_organisation_id(db.session)}): "
            "nothing loaded"
        )
        return
    click.echo(
        f"demo organisation {summary.organisation_id} loaded: {summary.companies} insurers, "
        f"{summary.clients} clients, {summary.policies} policies"
    )


@monassurance.command("load-templates")
def load_templates_command() -> None:
    """Add the missing built-in document templates, and new versions of changed ones."""
    from app.extensions import db
    from app.services.demo import ensure_builtin_templates

    added = ensure_builtin_templates(db.session)
    done = f"{added} built-in template(s) added or updated"
    click.echo(done if added else "built-in templates up to date")


@monassurance.command("ping-worker")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a consumer to answer.",
)
def ping_worker_command(timeout: float) -> None:
    """Send a ping through the queue and wait for a consumer to answer (exit 1 if none does)."""
    from huey.exceptions import ResultTimeout, TaskException

    from app.tasks.heartbeat import last_heartbeat, ping

    started = time.monotonic()
    try:
        result = ping()
    except Exception as error:  # the queue's storage (Redis, SQLite file) refused the message
        raise click.ClickException(f"could not enqueue the ping: {error}") from None
    try:
        # A revoked ping will not be run by a consumer that starts later.
        answer = result.get(blocking=True, timeout=timeout, revoke_on_timeout=True)
    except ResultTimeout:
        beat = last_heartbeat()
        seen = f"; last heartbeat {time.time() - beat:.0f} s ago" if beat else ""
        raise click.ClickException(f"no worker answered within {timeout:g} s{seen}") from None
    except TaskException as error:
        raise click.ClickException(f"the worker failed to answer: {error}") from None
    elapsed_ms = (time.monotonic() - started) * 1000
    database = "reachable" if answer.get("database") else "UNREACHABLE"
    click.echo(
        f"worker answered in {elapsed_ms:.0f} ms (pid {answer.get('pid')}, database {database})"
    )
    if not answer.get("database"):
        raise SystemExit(1)


@monassurance.command("sweep-documents")
def sweep_documents_command() -> None:
    """Send abandoned documents to the queue again; fail those with no attempt left.

    The worker does this every minute; run it by hand after an outage to see what it does.
    """
    from app.services.documents import sweep
    from app.services.reports import sweep_jobs

    result = sweep()
    click.echo(f"documents: {result}")
    # Reports and exports are jobs that work themselves: swept by the same rules.
    jobs = sweep_jobs()
    click.echo(f"report and export jobs: {jobs}")
    if result.not_sent or jobs.not_sent:
        raise click.ClickException("the queue refused the documents: is REDIS_URL reachable?")


@monassurance.command("issue-premiums")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Count what would be issued and moved, then roll back: nothing is written.",
)
@click.option(
    "--organisation-id",
    type=click.IntRange(min=1),
    default=None,
    help="Only this organisation (default: every organisation).",
)
def issue_premiums_command(dry_run: bool, organisation_id: int | None) -> None:
    """The daily premium run by hand: issue due notices, move the unpaid stages, e-mail the
    reminders and relances due."""
    from app.extensions import db
    from app.services.audit import Actor, acting_as
    from app.services.premiums.daily import run_daily

    # An operator's shell has no app user: the audit trail names the CLI.
    with acting_as(Actor(None, "cli", None)):
        run = run_daily(db.session, dry_run=dry_run, organisation_id=organisation_id)
    summary = run.summary()
    prefix = "dry run: would issue" if dry_run else "issued"
    click.echo(
        f"{prefix} {summary['issued']} notice(s), moved {summary['moved']} stage(s), "
        f"in {summary['organisations']} organisation(s); {summary['reminded']} reminder(s) "
        f"and {summary['relanced']} relance(s) {'to e-mail' if dry_run else 'e-mailed'}"
    )
    if run.failed:
        failed = ", ".join(str(org_id) for org_id in sorted(run.failed))
        raise click.ClickException(f"failed for organisation(s) {failed}: see the log")


@monassurance.command("open-renewals")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Count the cycles that would open, then roll back: nothing is written.",
)
@click.option(
    "--organisation-id",
    type=click.IntRange(min=1),
    default=None,
    help="Only this organisation (default: every organisation).",
)
def open_renewals_command(dry_run: bool, organisation_id: int | None) -> None:
    """The daily opening of renewal cycles, by hand (the worker runs it every morning)."""
    from app.extensions import db
    from app.services.audit import Actor, acting_as
    from app.services.renewals.daily import open_everywhere

    # An operator's shell has no app user: the audit trail names the CLI.
    with acting_as(Actor(None, "cli", None)):
        run = open_everywhere(db.session, dry_run=dry_run, organisation_id=organisation_id)
    summary = run.summary()
    verb = "dry run: would open" if dry_run else "opened"
    click.echo(
        f"{verb} {summary['opened']} renewal cycle(s) in {summary['organisations']} organisation(s)"
    )
    if run.failed:
        failed = ", ".join(str(org_id) for org_id in sorted(run.failed))
        raise click.ClickException(f"failed for organisation(s) {failed}: see the log")


@monassurance.command("apply-task-rules")
@click.option(
    "--dry-run", is_flag=True, help="List the tasks that would be created: nothing is written."
)
@click.option(
    "--organisation-id",
    type=click.IntRange(min=1),
    default=None,
    help="Only this organisation (default: every organisation).",
)
def apply_task_rules_command(dry_run: bool, organisation_id: int | None) -> None:
    """The daily application of the task rules, by hand (the worker runs it every morning)."""
    from app.extensions import db
    from app.services.audit import Actor, acting_as
    from app.services.tasks.engine import apply_rules

    with acting_as(Actor(None, "cli", None)):
        run = apply_rules(db.session, organisation_id=organisation_id, dry_run=dry_run)
    for planned in run.planned:
        click.echo(f"{planned.due_on.isoformat()}  {planned.rule_name}: {planned.title}")
    for message in run.planned_messages:
        click.echo(f"e-mail to {message.to}  {message.rule_name}: {message.subject}")
    summary = run.summary()
    verb = "dry run: would create" if dry_run else "created"
    click.echo(f"{verb} {len(run.planned) if dry_run else summary['created']} task(s)")
    verb = "dry run: would queue" if dry_run else "queued"
    queued = len(run.planned_messages) if dry_run else summary["queued"]
    click.echo(f"{verb} {queued} e-mail(s)")
    if run.failed or run.failed_rules:
        failed = ", ".join(str(org_id) for org_id in sorted(run.failed))
        rules = ", ".join(str(rule_id) for rule_id in sorted(run.failed_rules))
        raise click.ClickException(
            f"failed for organisation(s) [{failed}], rule(s) [{rules}]: see the log"
        )


@monassurance.command("task-defaults")
@click.option("--organisation-id", type=click.IntRange(min=1), required=True)
def task_defaults_command(organisation_id: int) -> None:
    """Give an agency the default task categories and rules it does not have yet."""
    from app.extensions import db
    from app.models import Organisation
    from app.services.audit import Actor, acting_as
    from app.services.tasks.defaults import install_defaults

    if db.session.get(Organisation, organisation_id) is None:
        raise click.BadParameter(
            f"no organisation {organisation_id}", param_hint="--organisation-id"
        )
    with acting_as(Actor(None, "cli", None)):
        added = install_defaults(db.session, organisation_id)
        db.session.commit()
    click.echo(f"added {added} default categorie(s) and rule(s)")


@monassurance.command("demo-statement")
@click.option("--insurer", "code", default="ATL", show_default=True, help="The insurer's code.")
@click.option("--month", required=True, help="The statement's month, YYYY-MM.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True)
def demo_statement_command(code: str, month: str, output: str) -> None:
    """Write the demo insurer's statement of a month, three differences planted, to upload."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Company
    from app.services.commissions.demo import sample_statement
    from app.services.commissions.statement_file import month_bounds
    from app.services.demo import demo_organisation_id
    from app.services.errors import DomainError

    organisation_id = demo_organisation_id(db.session)
    if organisation_id is None:
        raise click.ClickException("no demo agency: run `flask monassurance seed-demo` first")
    company = db.session.scalar(
        select(Company).where(Company.organisation_id == organisation_id, Company.code == code)
    )
    if company is None:
        raise click.ClickException(f"the demo agency has no insurer {code}")
    try:
        first, last = month_bounds(month)
        data = sample_statement(db.session, organisation_id, company.id, first, last)
    except (DomainError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    with open(output, "wb") as target:
        target.write(data)
    click.echo(f"wrote {output}: upload it for {company.name}, period {month}")
