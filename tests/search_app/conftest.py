import pytest
from fastapi.testclient import TestClient

from search_app import create_app


@pytest.fixture
def client(indexed):
    with TestClient(create_app(indexed), raise_server_exceptions=False) as test_client:
        indexed.settle()  # the views found at start are ready, as for a visitor who comes later
        yield test_client


@pytest.fixture
def creds(indexed):
    """An account of each role: a twin (Oulu, paired with Helsinki), two pilots, the matching team, an admin."""
    accounts = indexed.accounts
    made = {name: accounts.add(name, role, city) for name, role, city in [
        ("oulu", "twin", "Oulu"), ("hel", "pilot", "Helsinki"), ("dun", "pilot", "Communauté Urbaine de Dunkerque"),
        ("team", "matching", None), ("root", "admin", None)]}
    indexed.pairings.add(None, "Oulu", "Helsinki", operator=True)
    return made


@pytest.fixture(autouse=True)
def english_after():
    """A test that answers in another language (search_app.i18n.use) leaves English behind it."""
    from search_app import i18n

    yield
    i18n.use("en")
