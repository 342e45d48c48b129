"""Every store backend runs the same contract suite: add a backend here and it is checked."""

import pytest

from kb.store.postgres import PostgresStore
from kb.store.sqlite import SqliteStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        backend = SqliteStore(tmp_path / "kb.sqlite3")
    else:
        backend = PostgresStore(request.getfixturevalue("pg_cluster").new_database(), tmp_path)
    yield backend
    backend.close()
