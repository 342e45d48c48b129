"""`kb users` and `kb notes`: accounts and published case notes."""

from __future__ import annotations

from pathlib import Path

import click

from kb.accounts import ACCOUNT_ROLES
from kb.cli.options import data_option, json_option, open_kb, print_json
from kb.settings import Settings


@click.group()
def users() -> None:
    """Accounts of pilots, the matching team and admins."""


@users.command("add")
@click.argument("name")
@click.option("--city", help="The pilot city whose notes it writes, or the twin city whose plan it writes.")
@click.option("--role", type=click.Choice(ACCOUNT_ROLES), required=True)
@json_option
@data_option
def users_add(name: str, city: str | None, role: str, as_json: bool, settings: Settings) -> None:
    """Create an account; prints its password and API token once.

    \b
    kb users add umea-officer --city Umeå --role pilot
    """
    _print_credentials(lambda accounts: accounts.add(name, role, city), as_json, settings)


@users.command("reset")
@click.argument("name")
@json_option
@data_option
def users_reset(name: str, as_json: bool, settings: Settings) -> None:
    """Give an account a new password and token (and enable it again)."""
    _print_credentials(lambda accounts: accounts.reset(name), as_json, settings)


@users.command("disable")
@click.argument("name")
@data_option
def users_disable(name: str, settings: Settings) -> None:
    """Stop an account from logging in or writing."""
    _with_accounts(settings, lambda accounts: accounts.disable(name))
    click.echo(f"{name} is disabled; kb users reset {name} enables it again")


@users.command("list")
@json_option
@data_option
def users_list(as_json: bool, settings: Settings) -> None:
    """Every account (no secrets)."""
    listed = _with_accounts(settings, lambda accounts: accounts.list())
    if as_json:
        print_json({"users": [u.__dict__ for u in listed]})
        return
    for u in listed:
        click.echo(f"{u.username:<24} {u.role:<9} {u.city or '-':<24} {'disabled' if u.disabled else 'active'}")


def _with_accounts(settings: Settings, action):
    with open_kb(settings) as kb:
        return action(kb.accounts)


def _print_credentials(action, as_json: bool, settings: Settings) -> None:
    credentials = _with_accounts(settings, action)
    if as_json:
        print_json({"username": credentials.username, "password": credentials.password, "token": credentials.token})
    else:
        click.echo(f"user:     {credentials.username}\npassword: {credentials.password}\ntoken:    {credentials.token}")
        click.echo("These are shown once; only their hashes are stored.", err=True)


@click.group()
def notes() -> None:
    """Published case notes."""


@notes.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@data_option
def notes_export(directory: Path, settings: Settings) -> None:
    """Write every published note as corpus Markdown, to review and version them."""
    with open_kb(settings) as kb:
        count = kb.notes.export(directory)
    click.echo(f"{count} notes written to {directory}")
