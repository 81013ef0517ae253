"""`flask monassurance …` commands for operators."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

monassurance = AppGroup("monassurance", help="MonAssurance operations.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(monassurance)


@monassurance.command("sync-roles")
def sync_roles_command() -> None:
    """Create or update the four roles and their permissions."""
    from flask import current_app

    from app.services.roles import sync_roles

    sync_roles(current_app.appbuilder)
    click.echo("roles and permissions synced")
