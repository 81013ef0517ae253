"""`flask purge`: orphan files, documents past retention, old failures, and the clients
whose retention period is over, anonymised, and accounting entries past their legal
retention (app/services/purge, app/services/privacy).

A dry run by default: it lists what would go, with sizes and totals, and deletes
nothing. `--apply` deletes exactly what it lists (each item checked again first).
`--organisation-id N` limits both to one agency. Each run is recorded (PurgeRun and
the audit trail), dry or not.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

# The audit trail names the CLI as the actor: an operator's shell has no app user.
CLI_ACTOR_NAME = "cli"
COLUMNS = ("category", "org", "document", "job", "size", "file", "reason")


def human_size(size: int) -> str:
    """1536 -> "1.5 KB" (powers of 1024)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@click.command("purge")
@click.option(
    "--apply",
    "apply_changes",
    is_flag=True,
    help="Delete what is listed. Without it, a dry run: nothing is deleted.",
)
@click.option(
    "--organisation-id",
    type=click.IntRange(min=1),
    default=None,
    help="Only this organisation's files and rows (default: every organisation).",
)
@with_appcontext
def purge_command(apply_changes: bool, organisation_id: int | None) -> None:
    """List (or with --apply delete) orphan files, expired documents and old failures."""
    from app.extensions import db
    from app.services import purge
    from app.services.audit import Actor
    from app.services.errors import DomainError

    try:
        scope = purge.organisation_scope(db.session, organisation_id)
        run = purge.run_purge(
            db.session,
            scope=scope,
            trigger="cli",
            apply=apply_changes,
            actor=Actor(None, CLI_ACTOR_NAME, None),
        )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    report = run.report or []
    _print_table(report)
    _print_totals(run, report)


def _print_table(report: list[dict[str, Any]]) -> None:
    if not report:
        click.echo("Nothing to purge.")
        return
    rows = [COLUMNS] + [_row(item) for item in report]
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def _row(item: dict[str, Any]) -> tuple[str, ...]:
    reason = item["reason"]
    if item.get("removed") is False:
        reason += " [kept: no longer qualified when checked again]"
    category = item["category"]
    if "count" in item:
        category += f" ({item['count']})"
    return (
        category,
        str(item.get("organisation_id") or "all"),
        str(item.get("document_id", "-")),
        str(item.get("job_id", "-")),
        human_size(item["size"]) if item.get("key") else "-",
        item.get("key", "-"),
        reason,
    )


def _print_totals(run: Any, report: list[dict[str, Any]]) -> None:
    links = sum(
        item.get("count", 0)
        for item in report
        if item["category"] == "spent_links" and item.get("removed", True)
    )
    notices = sum(
        item.get("count", 0)
        for item in report
        if item["category"] == "accounting" and item.get("removed", True)
    )
    clients = sum(
        1 for item in report if item["category"] == "anonymise" and item.get("removed", True)
    )
    click.echo(
        f"{'Removed' if run.applied else 'Would remove'}: {run.files_count} file(s), "
        f"{human_size(run.bytes_total)} ({run.bytes_total} bytes); "
        f"{run.documents_count} document(s), {run.jobs_count} failed job(s), "
        f"{links} spent link(s), {clients} client(s) anonymised, "
        f"{notices} accounting premium notice(s) past retention."
    )
    if run.applied:
        click.echo(f"Purge run #{run.id} applied.")
    else:
        click.echo(
            f"Dry run #{run.id}: nothing was deleted. Run `flask purge --apply` to delete these."
        )
