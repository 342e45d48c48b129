"""The store's interface: what the rest of the project may ask of the single source of truth.

A backend implements `Store` (reads, each consistent on its own) and `Transaction` (writes that
commit whole or not at all); callers never see a connection or a statement. Every backend
passes the contract suite in tests/kb/store/."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import numpy as np

from kb.documents import Chunk, Practice, unstorable
from kb.errors import Conflict, Invalid


IDENTITY = "identity"  # the secret that names a store (`Store.identity`)


@dataclass(frozen=True)
class City:
    city: str
    country: str
    role: str
    cohort: int | None = None
    population: int | None = None
    lat: float | None = None
    lon: float | None = None
    pilot_project: str | None = None
    domains: tuple[str, ...] = ()
    source: str | None = None  # where population and coordinates come from


@dataclass(frozen=True)
class StoredDocument:
    """What the store remembers of a document to decide whether it changed."""

    content_hash: str
    model_id: str
    path: str | None


@dataclass(frozen=True)
class Passage:
    id: int
    doc_id: str
    ordinal: int
    section: str | None
    text: str
    language: str | None = None  # the language it is written in (kb/documents/chunking.py), an ISO 639-1 code


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    city: str | None
    role: str
    password_hash: str
    token_hash: str
    disabled: bool
    language: str | None = None  # the interface language the account chose (None: the browser's)


@dataclass(frozen=True)
class NoteRecord:
    id: str
    city: str
    country: str
    fields: dict
    version: int
    deleted: bool


@dataclass(frozen=True)
class NoteVersion:
    version: int
    action: str
    fields: dict
    user_id: int | None
    at: str


@dataclass(frozen=True)
class Pairing:
    twin: str
    pilot: str
    added_at: str


@dataclass(frozen=True)
class ShortlistItem:
    twin: str
    doc_id: str
    status: str  # considering, adopting, dropped
    note: str
    added_at: str
    status_at: str | None = None  # when it took its status (None: kept before that was recorded)


@dataclass(frozen=True)
class PlanRecord:
    twin: str
    version: int
    sections: dict[str, str]
    shared: bool
    final: bool
    adopted: tuple[str, ...]  # the practices (document ids) it adopts, fixed when it is made final
    updated_at: str


@dataclass(frozen=True)
class PlanComment:
    id: int
    twin: str
    section: str
    text: str
    author: str | None
    at: str
    resolved: bool


@dataclass(frozen=True)
class Event:
    """A line of an account's inbox: something that concerns it, and where to look."""

    id: int
    kind: str
    text: str
    link: str
    actor: str | None  # the account that caused it
    at: str
    read: bool


@dataclass(frozen=True)
class Digest:
    email: str
    frequency: str  # none, daily, weekly
    sent_at: str | None  # when the last was sent
    last_event: int = 0  # the newest event it carried


@dataclass(frozen=True)
class Meeting:
    """A meeting of a pairing: a workshop, a digital meeting or a site visit, and what came of it."""

    id: int
    twin: str
    pilot: str
    kind: str
    date: str
    module: str
    participants: str
    record: str
    files: tuple[str, ...]  # kept files (kb/files/kept.py references): minutes, slides, photos
    author: str | None
    at: str


@dataclass(frozen=True)
class LoggedSearch:
    """A search as the log keeps it (kb/insights/log.py): what was asked, how it went, by which
    role, and never by whom. `ref` is a random name for it (a click on a result or a practice kept
    afterwards marks it); `visit` a random name for the browser session it came from, never
    stored beside an account; `replaces` the ref of the same person's search it refines while
    typing, which it takes the place of."""

    ref: str
    at: str
    text: str
    text_hash: str
    language: str | None
    filters: str  # JSON
    mode: str
    results: int
    weak: bool
    role: str  # the account's role, or "anonymous"
    source: str  # page or api
    visit: str | None = None
    replaces: str | None = None


@dataclass(frozen=True)
class AskedText:
    """One text of the search log, with how often it was asked in a period."""

    text_hash: str
    text: str
    language: str | None
    count: int
    weak: int  # of them weak matches


@dataclass(frozen=True)
class SearchDay:
    """The searches of one day, one language and one role."""

    day: str
    language: str | None
    role: str
    count: int
    weak: int
    visits: int  # made in a browser session, where a kept practice can follow
    kept: int  # followed, in that session, by a practice kept


@dataclass(frozen=True)
class Cursor:
    """How far a reader has followed the store: the newest passage and the newest deletion."""

    passage: int = 0
    deletion: int = 0


@dataclass(frozen=True)
class IndexSnapshot:
    """Everything an in-memory index is built from, read in one consistent state."""

    version: int
    count: int  # passages of the model
    cursor: Cursor
    owners: dict[int, str]  # passage id -> document id
    ids: np.ndarray | None = None  # passage ids and vectors, when asked for
    vectors: np.ndarray | None = None


@dataclass(frozen=True)
class Changes:
    """What was written after a cursor: passages added (with vectors) and deleted."""

    version: int
    count: int  # passages of the model now
    cursor: Cursor
    added_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    added_owners: list[str] = field(default_factory=list)
    added_vectors: np.ndarray | None = None
    deleted_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


class Transaction(ABC):
    """The writes of one transaction, and the reads a write must make inside it."""

    # -- documents ----------------------------------------------------------------------------
    @abstractmethod
    def put_document(self, practice: Practice, chunks: list[Chunk], vectors: np.ndarray, model_id: str,
                     fingerprint: str) -> None:
        """Insert or replace a document with its passages, vectors and keyword entries;
        `fingerprint` is what `stored_documents` gives back to tell whether it changed."""

    @abstractmethod
    def remove_documents(self, ids: Iterable[str]) -> None:
        """Delete documents with their passages (deletions are logged for other readers)."""

    @abstractmethod
    def replace_cities(self, cities: Iterable[City]) -> None: ...

    # -- notes -------------------------------------------------------------------------------
    @abstractmethod
    def note(self, note_id: str) -> NoteRecord | None: ...

    @abstractmethod
    def save_note(self, note: NoteRecord, author_id: int | None) -> None: ...

    @abstractmethod
    def record_note_version(self, note_id: str, version: int, action: str, fields: dict,
                            user_id: int | None) -> None: ...

    # -- accounts ----------------------------------------------------------------------------
    @abstractmethod
    def user(self, username: str) -> UserRecord | None: ...

    @abstractmethod
    def add_user(self, username: str, city: str | None, role: str) -> int:
        """A new account without secrets yet; its id."""

    @abstractmethod
    def set_user_secrets(self, user_id: int, password_hash: str, token_hash: str) -> None: ...

    @abstractmethod
    def set_user_disabled(self, user_id: int, disabled: bool) -> None: ...

    @abstractmethod
    def set_user_token_hash(self, user_id: int, token_hash: str) -> None: ...

    @abstractmethod
    def set_user_language(self, user_id: int, language: str | None) -> None: ...

    @abstractmethod
    def record_login_failure(self, username: str, client: str, at: float) -> None: ...

    @abstractmethod
    def forget_before(self, at: float) -> None:
        """Drop failed logins from before `at`, and sessions that expired before it."""

    @abstractmethod
    def add_session(self, session_hash: str, user_id: int, expires_at: float) -> None: ...

    @abstractmethod
    def end_session(self, session_hash: str) -> None: ...

    @abstractmethod
    def end_sessions(self, user_id: int) -> None:
        """End every session of the account (a reset, disabling it)."""

    # -- workspace ---------------------------------------------------------------------------
    @abstractmethod
    def keep(self, twin: str, doc_id: str, user_id: int | None) -> bool:
        """Put a practice on a twin's shortlist; False if it was there already."""

    @abstractmethod
    def update_kept(self, twin: str, doc_id: str, status: str, note: str) -> bool: ...

    @abstractmethod
    def unkeep(self, twin: str, doc_id: str) -> bool: ...

    @abstractmethod
    def plan(self, twin: str) -> PlanRecord | None: ...

    @abstractmethod
    def save_plan(self, plan: PlanRecord, user_id: int | None) -> None:
        """Store the plan as the one after the stored version (`plan.version` - 1, or none yet)
        and keep its sections as version `plan.version`. A plan derived from any other version
        raises `Conflict` and writes nothing: no save overwrites one it did not start from."""

    @abstractmethod
    def add_comment(self, twin: str, section: str, text: str, user_id: int) -> int: ...

    @abstractmethod
    def resolve_comment(self, twin: str, comment_id: int, user_id: int) -> bool: ...

    # -- pairings ----------------------------------------------------------------------------
    @abstractmethod
    def add_pairing(self, twin: str, pilot: str, user_id: int | None) -> bool:
        """Record that `twin` is paired with `pilot`; False if it was already."""

    @abstractmethod
    def remove_pairing(self, twin: str, pilot: str) -> bool:
        """False if there was no such pairing."""

    @abstractmethod
    def clear_login_failures(self, username: str, client: str | None = None) -> None:
        """Forget the account's failed logins: from `client` only, or from everywhere."""

    @abstractmethod
    def add_city(self, city: City) -> bool:
        """A city added between corpus syncs (`kb cities add`); False if one of that name exists."""

    @abstractmethod
    def add_meeting(self, meeting: Meeting, user_id: int | None) -> int:
        """Record a pairing's meeting (its `id`, `author` and `at` are given by the store); its id."""

    # -- inbox -------------------------------------------------------------------------------
    @abstractmethod
    def notify(self, user_ids: Iterable[int], kind: str, text: str, link: str, actor_id: int | None) -> None:
        """An event in the inbox of each account, written with what caused it."""

    @abstractmethod
    def mark_read(self, user_id: int, ids: Iterable[int] | None = None) -> int:
        """Mark the account's events `ids` (or all) read; how many were unread."""

    @abstractmethod
    def set_digest(self, user_id: int, email: str, frequency: str) -> None:
        """The account's e-mail digest: where to, and none, daily or weekly."""

    @abstractmethod
    def digest_sent(self, user_id: int, at: str, last_event: int) -> None:
        """A digest went out at `at` with the events up to id `last_event`."""

    # -- the search log (kb/insights/) ------------------------------------------------------
    @abstractmethod
    def log_searches(self, searches: Iterable[LoggedSearch]) -> None:
        """Add searches; one that `replaces` a logged search not yet clicked takes its place."""

    @abstractmethod
    def mark_searches(self, clicked: Iterable[str] = (), kept_visits: Iterable[str] = ()) -> None:
        """A result of the searches `clicked` was opened; the searches of `kept_visits` were
        followed by a practice kept."""

    @abstractmethod
    def forget_searches(self, before: str | None) -> int:
        """Delete the searches made before `before` (every one: None) and the vectors of texts no
        search keeps; how many searches."""

    @abstractmethod
    def save_search_vectors(self, model_id: str, vectors: dict[str, np.ndarray]) -> None: ...

    @abstractmethod
    def record_login(self, user_id: int) -> None:
        """When the account last logged in (the matching team asks who logged in but kept nothing)."""

    # -- files -------------------------------------------------------------------------------
    @abstractmethod
    def keep_file(self, ref: str, data: bytes) -> None:
        """Keep an original file (an attachment, an indexed PDF) by its reference, once."""

    # -- copying -----------------------------------------------------------------------------
    @abstractmethod
    def insert_rows(self, table: str, rows: Iterable[tuple]) -> None:
        """Rows of one of kb/store/rows.py TABLES as `Store.table_rows` gives them, into an empty
        store (`kb store copy`); what the backend derives from them (keyword entries) follows."""


class Store(ABC):
    """The single source of truth: documents, passages and vectors, cities, notes, accounts."""

    # Whether several app servers share it, each with its own data folder: then the original
    # files are kept in the store too, not only in the folder of the server that received them.
    shared = False

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def write(self, documents: bool = True) -> AbstractContextManager[Transaction]:
        """A write transaction. One that changes documents bumps the store version, which
        tells every process that its index must catch up."""

    @abstractmethod
    def version(self) -> int: ...

    @abstractmethod
    def secret(self, name: str) -> bytes:
        """A random key kept in the store, made on first use: every process and app server of
        the store shares it (the session cookies' signing key)."""

    def identity(self) -> str:
        """This store's own name, never copied: an index or a keyword mirror built from one store
        is never taken for another's at the same version."""
        return self.secret(IDENTITY)[:16].hex()

    # -- documents ---------------------------------------------------------------------------
    @abstractmethod
    def stored_documents(self) -> dict[str, StoredDocument]: ...

    @abstractmethod
    def reusable_vectors(self, hashes: Iterable[str], model_id: str) -> dict[str, np.ndarray]:
        """Stored vectors of passages with these content hashes, so they need no new embedding."""

    @abstractmethod
    def documents(self, ids: Iterable[str]) -> dict[str, Practice]: ...

    def document(self, doc_id: str) -> Practice | None:
        return self.documents([doc_id]).get(doc_id)

    @abstractmethod
    def holders_of_file(self, ref: str) -> tuple[list[str], list[str], list[int]]:
        """(documents, notes — deleted ones included, meetings) that list the kept file `ref`, by id."""

    @abstractmethod
    def document_count(self) -> int: ...

    @abstractmethod
    def document_languages(self) -> dict[str, int]:
        """How many documents each language has: a document counts in each of its languages
        (its own and its passages'), as the language filter finds it."""

    @abstractmethod
    def languages_of(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Each document's languages: its own first, then its passages' others, sorted."""

    @abstractmethod
    def documents_of_city(self, name: str) -> list[Practice]: ...

    @abstractmethod
    def document_counts_by_city(self) -> dict[str, int]: ...

    @abstractmethod
    def document_vectors(self, model_id: str, ids: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Each document's normalised mean passage vector (all documents, or those of `ids`)."""

    @abstractmethod
    def counts(self) -> dict[str, object]:
        """Documents, passages and cities, and documents by kind, language, domain and lever."""

    # -- passages ----------------------------------------------------------------------------
    @abstractmethod
    def passages(self, ids: Iterable[int]) -> dict[int, Passage]: ...

    @abstractmethod
    def passages_of(self, doc_id: str) -> list[Passage]:
        """A document's passages in their order."""

    @abstractmethod
    def passage_owners(self, ids: Iterable[int]) -> dict[int, str]:
        """The document id of each passage: what ranking needs, without reading any text."""

    @abstractmethod
    def passage_count(self, model_id: str | None = None) -> int: ...

    @abstractmethod
    def passage_ids_matching(self, filters: dict[str, str]) -> np.ndarray:
        """Ids of the passages whose document matches every exact filter (validated keys); a
        document matches a language filter in any of its languages (its own or a passage's)."""

    @abstractmethod
    def keyword_passages(self, terms: Iterable[str], limit: int, filters: dict[str, str] | None = None,
                         within: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, BM25 score) of passages holding any of `terms` (words or phrases analysed
        as kb/documents/analysis.py reads the passages), best first; scores are positive.
        `filters` and `within` (passage ids) restrict the ranking exactly."""

    @abstractmethod
    def passages_with_phrases(self, phrases: Iterable[Iterable[str]]) -> set[int]:
        """Ids of the passages that hold every phrase, word for word, in one of its ways (each
        analysed as the passages are)."""

    @abstractmethod
    def known_words(self, words: Iterable[str]) -> set[str]:
        """Those of `words` that occur in the documents."""

    @abstractmethod
    def vocabulary(self, least: int = 1) -> dict[str, int]:
        """Every word of the documents (titles and passages) seen at least `least` times, with its count."""

    @abstractmethod
    def index_snapshot(self, model_id: str, with_vectors: bool) -> IndexSnapshot: ...

    @abstractmethod
    def changes_since(self, cursor: Cursor, model_id: str) -> Changes: ...

    # -- cities ------------------------------------------------------------------------------
    @abstractmethod
    def city(self, name: str) -> City | None:
        """The profile of `name`, case ignored."""

    @abstractmethod
    def cities(self) -> list[City]: ...

    # -- notes -------------------------------------------------------------------------------
    @abstractmethod
    def note(self, note_id: str) -> NoteRecord | None: ...

    @abstractmethod
    def note_versions(self, note_id: str) -> list[NoteVersion]: ...

    @abstractmethod
    def live_note_ids(self) -> list[str]: ...

    @abstractmethod
    def deleted_notes(self, city: str) -> list[NoteRecord]: ...

    # -- accounts ----------------------------------------------------------------------------
    @abstractmethod
    def user(self, username: str) -> UserRecord | None:
        """The account called `username`, case ignored."""

    @abstractmethod
    def user_by_id(self, user_id: int) -> UserRecord | None: ...

    @abstractmethod
    def users(self) -> list[UserRecord]: ...

    @abstractmethod
    def shortlist(self, twin: str) -> list[ShortlistItem]: ...

    @abstractmethod
    def plan(self, twin: str) -> PlanRecord | None: ...

    @abstractmethod
    def plan_versions(self, twin: str) -> list[tuple[int, str]]:
        """(version, when) of every saved version of a twin's plan."""

    @abstractmethod
    def plan_comments(self, twin: str) -> list[PlanComment]: ...

    @abstractmethod
    def final_plans_adopting(self, doc_id: str) -> list[str]:
        """The twins whose final plan adopts the practice `doc_id`."""

    @abstractmethod
    def pairings(self) -> list[Pairing]:
        """Every twin-pilot pairing, by twin then pilot."""

    @abstractmethod
    def meetings(self, twin: str | None = None, pilot: str | None = None) -> list[Meeting]:
        """The meetings of the pairings of `twin` and/or `pilot`, newest first."""

    @abstractmethod
    def inbox(self, user_id: int, limit: int = 200) -> list[Event]:
        """The account's events, unread first, newest first."""

    @abstractmethod
    def unread_count(self, user_id: int) -> int: ...

    @abstractmethod
    def digests(self) -> dict[int, Digest]:
        """Each account's digest choice, for those that made one."""

    @abstractmethod
    def asked_texts(self, since: str, until: str, most: int) -> tuple[list[AskedText], int]:
        """The `most` most asked texts of the gap searches of [since, until) (weak matches, and
        searches from a page whose results nobody opened, unless a practice was kept after
        them), each with its count, most first; and how many gap searches the period holds."""

    @abstractmethod
    def search_vectors(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def search_days(self, since: str, until: str) -> list[SearchDay]: ...

    @abstractmethod
    def search_log_state(self) -> tuple[int, int, int]:
        """The newest search's id, how many there are, and how many were clicked or kept: what
        a figure drawn from the log was drawn from."""

    @abstractmethod
    def logins(self) -> dict[int, str]:
        """When each account last logged in, for those that have."""

    @abstractmethod
    def shortlists(self) -> list[ShortlistItem]:
        """Every twin's kept practices."""

    @abstractmethod
    def final_plans(self) -> list[PlanRecord]: ...

    @abstractmethod
    def login_failures(self, username: str, client: str, since: float) -> tuple[int, float | None]:
        """How many failed logins for `username` came from `client` since `since`, and when the last was."""

    @abstractmethod
    def client_failures(self, client: str, since: float) -> tuple[int, float | None]:
        """How many failed logins, for any user name, came from `client` since `since`, and when the last was."""

    @abstractmethod
    def session_user(self, session_hash: str, now: float) -> int | None:
        """The account id of a session that has neither ended nor expired."""

    @abstractmethod
    def file(self, ref: str) -> bytes | None:
        """The original file kept as `ref`, if any."""

    # -- copying -----------------------------------------------------------------------------
    @abstractmethod
    def table_rows(self, table: str) -> Iterator[tuple]:
        """Every row of one of kb/store/rows.py TABLES, with its columns in that order."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[Callable[[str], Iterator[tuple]]]:
        """A reader of tables like `table_rows` whose every table comes from one committed state,
        while writers go on (`kb backup`)."""


def batched(items: Iterable, size: int = 500) -> Iterator[list]:
    """Lists of at most `size` items: SQL statements take a bounded number of parameters."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def plan_moved_on(plan: PlanRecord) -> Conflict:
    """The refusal of a plan saved from a version that is no longer the stored one."""
    return Conflict(f"{plan.twin}'s plan changed while this change was being saved (it is past version "
                    f"{plan.version - 1} now); reload the plan and make the change again")


def storable(params: Iterable) -> tuple:
    """The parameters of a write or a lookup, or Invalid naming the first text no store can hold
    (kb/documents/words.py `unstorable`). Both stores check every one, so they answer alike."""
    params = tuple(params)
    for value in (v for param in params for v in (param if isinstance(param, list) else (param,))):
        if isinstance(value, str) and (why := unstorable(value)):
            raise Invalid(f"{why}: {value[:40]!r}")
    return params
