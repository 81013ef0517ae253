"""`flask keys …`: the keys that sign download links (app/services/links/keys.py).

`flask keys list` shows them; `flask keys rotate` makes a new signing key, lets
the previous one verify for LINK_TTL_MAX_SECONDS more (so no issued link breaks)
and retires keys whose links can no longer be valid. With LINK_SIGNING_KEYS set
the keys live in the environment, and rotation happens there (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

keys = AppGroup("keys", help="Signing keys of download links.")

# The audit trail names the CLI as the actor: an operator's shell has no app user.
CLI_ACTOR_NAME = "cli"


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


@keys.command("rotate")
def rotate_command() -> None:
    """Make a new signing key; older keys keep verifying until their links expire."""
    from app.extensions import db
    from app.services.audit import Actor
    from app.services.links import EnvironmentKeysError, KeyConfigError
    from app.services.links.keys import rotate

    try:
        result = rotate(db.session, actor=Actor(None, CLI_ACTOR_NAME, None))
    except (EnvironmentKeysError, KeyConfigError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"new signing key {result.new_kid}")
    for kid, until in result.demoted:
        click.echo(f"key {kid} stops signing; it verifies links until {_when(until)}")
    for kid in result.retired:
        click.echo(f"key {kid} retired (its secret is wiped)")
    if not result.demoted:
        click.echo("there was no signing key before: no issued link is affected")


@keys.command("list")
def list_command() -> None:
    """Every key with its state: signing, verifying (until), expired or retired."""
    from app.extensions import db
    from app.services.links import KeyConfigError
    from app.services.links.clock import now
    from app.services.links.keys import describe_keys

    try:
        rows = describe_keys(db.session)
    except KeyConfigError as error:
        raise click.ClickException(str(error)) from None
    if not rows:
        click.echo("no signing key yet: the first one is made when the first link is issued")
        return
    moment = now()
    click.echo(f"{'kid':<16}  {'source':<11}  {'state':<9}  {'created':<23}  verifies until")
    for row in rows:
        until = _when(row.verify_until) if row.verify_until else "-"
        if row.retired_at is not None:
            until = f"retired {_when(row.retired_at)}"
        click.echo(
            f"{row.kid:<16}  {row.source:<11}  {row.state(moment):<9}  "
            f"{_when(row.created_at):<23}  {until}"
        )
