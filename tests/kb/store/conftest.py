"""Every store backend runs the same contract suite: add a backend here and it is checked."""

import pytest

from kb.store.sqlite import SqliteStore


@pytest.fixture(params=["sqlite"])
def store(request, tmp_path):
    backend = {"sqlite": lambda: SqliteStore(tmp_path / "kb.sqlite3")}[request.param]()
    yield backend
    backend.close()
