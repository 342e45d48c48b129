import pytest
from fastapi.testclient import TestClient

from search_app import create_app


@pytest.fixture
def client(indexed):
    with TestClient(create_app(indexed), raise_server_exceptions=False) as test_client:
        yield test_client
