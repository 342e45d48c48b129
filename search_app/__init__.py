"""The web app: FastAPI routes, each a parse, one call into `kb`, and a render."""

from search_app.app import create_app

__all__ = ["create_app"]
