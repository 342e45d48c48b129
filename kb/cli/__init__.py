"""The `kb` command: index a corpus, search it, serve it, and keep its accounts.

The one composition root: its commands may import `indexer` and `search_app`."""

from __future__ import annotations

import click

from kb.cli.accounts import notes, users
from kb.cli.backup import backup, restore
from kb.cli.cities import cities, pairings
from kb.cli.digests import digests
from kb.cli.index import index, info
from kb.cli.insights import insights
from kb.cli.search import eval_partners, evaluate, partners, search, similar
from kb.cli.serve import serve
from kb.cli.store import migrate, store


@click.group()
@click.version_option(package_name="twin-cities-kb")
def main() -> None:
    """The Twin Cities knowledge base: semantic search over pilot cities' climate practices.

    \b
    kb index --corpus corpus
    kb search "district heating phase-out" --filter country=Sweden
    kb info
    """


for command in (index, info, search, similar, evaluate, partners, eval_partners, serve, users, notes, cities, pairings,
                migrate, store, backup, restore, digests, insights):
    main.add_command(command)
