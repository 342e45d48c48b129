"""The web app: FastAPI routes, each a parse, one call into `kb`, and a render."""

__all__ = ["create_app"]


def __getattr__(name: str):
    # Imported when asked for, so that `python -m search_app.server` (the process that only
    # watches over the workers) does not load the knowledge base and the web stack itself.
    if name == "create_app":
        from search_app.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
