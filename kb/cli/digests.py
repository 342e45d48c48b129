"""`kb digests send`: the e-mail digests accounts chose, for cron."""

from __future__ import annotations

import smtplib

import click

from kb.cli.options import data_option, json_option, open_kb, print_json
from kb.settings import Settings


@click.group()
def digests() -> None:
    """E-mail digests of what accounts have not read in their inbox."""


@digests.command("send")
@json_option
@data_option
def digests_send(as_json: bool, settings: Settings) -> None:
    """Mail each account whose daily or weekly digest is due what it has not read since the last
    one, through KB_SMTP_URL (nothing is sent when it is unset). Run it from cron, hourly:

    \b
    0 * * * *  cd /srv/kb && KB_SMTP_URL=smtp://mail:25 .venv/bin/kb digests send
    """
    with open_kb(settings) as kb:
        try:
            run = kb.digests.send()
        except (OSError, smtplib.SMTPException) as exc:
            raise click.ClickException(f"the mail server at {settings.smtp_url.split('@')[-1]} refused or "
                                       f"could not be reached: {exc}") from exc
    if as_json:
        print_json({"sent": run.sent, "reason": run.reason})
    elif run.reason:
        click.echo(run.reason)
    else:
        click.echo(f"{len(run.sent)} digest(s) sent" + "".join(f"\n  {address}" for address in run.sent))
