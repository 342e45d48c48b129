"""The knowledge base as the CLI and the web app see it: one call per thing a person asks for.

Each method returns what one page, API route or command shows; the modules behind it (search,
similarity, partners, explorer, notes, accounts) work on the `Core` it extends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from kb.accounts import MATCHING_ROLES, Accounts, User
from kb.core import Core
from kb.documents import DOMAINS, Practice
from kb.errors import Forbidden, Invalid, KBError, NotFound, Unauthenticated
from kb.inbox import Digests, Inbox
from kb.insights import Asker, Insights, ReplicationRow, SearchLog, load_clustering, pilot_reach
from kb.matching import (Explorer, ExplorerView, Heatmap, Journal, Pairings, PartnerResponse, Profile, Registry,
                         UnknownDocument, is_added, similar, suggest)
from kb.messages import Message
from kb.notes import CaseNote, Notes, may_change
from kb.search import SearchResponse, SearchResult, facet_counts, search
from kb.store import City, Digest, Event, Meeting, Pairing, Passage, PlanRecord
from kb.workspace import Workspace

log = logging.getLogger(__name__)
FACET_DEPTH = 100  # facet counts and partner suggestions beside a result list look this deep


@dataclass(frozen=True)
class SearchPage:
    response: SearchResponse
    facets: dict[str, list[tuple[str, int]]]
    partners: PartnerResponse
    kept: frozenset[str] = frozenset()  # the documents the reader's twin keeps
    unfiltered: int = 0  # good matches without the filters, when the filters leave none
    ref: str | None = None  # the search's name in the log: opening a result marks it

    @property
    def filters_hide(self) -> bool:
        """The filters, not the knowledge base, leave nothing good: say so, with a way to clear them."""
        return self.unfiltered > 0 and (not self.response.results or self.response.weak_match)


@dataclass(frozen=True)
class PracticePage:
    doc: Practice
    city: City | None
    similar: list[SearchResult]
    note: CaseNote | None  # when the document is a case note published through the app
    may_change: bool
    kept: bool = False  # on the reader's twin's shortlist
    adopters: list[str] = field(default_factory=list)  # twins whose final plan adopts it
    passages: list[Passage] = field(default_factory=list)  # in order, each with its own `language`

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the document is written in, its own first (an attached file, a plan's
        section may be in another)."""
        others = sorted({p.language for p in self.passages if p.language} - {self.doc.language})
        return (self.doc.language or "en", *others)

    @property
    def section_languages(self) -> dict[str, str]:
        """The language of each section (its heading as the body writes it) whose passages are
        written in another language than the document: what a page marks with `lang`."""
        return {p.section: p.language for p in self.passages
                if p.section and p.language and p.language != self.doc.language}


@dataclass(frozen=True)
class CityPage:
    name: str
    profile: City | None
    practices: list[Practice]
    notes: list[Practice]
    pairings: list[Pairing] = field(default_factory=list)
    mentioned_in: list[SearchResult] = field(default_factory=list)  # for a city without a profile
    deleted_notes: list[CaseNote] = field(default_factory=list)  # for an admin, who may restore them
    meetings: list[Meeting] = field(default_factory=list)  # of its pairings, newest first
    kept_by: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # its practice -> (twin, status)
    shared_plans: list[PlanRecord] = field(default_factory=list)  # for its own pilot accounts
    reach: ReplicationRow | None = None  # how far its practices travel: kept, adopted, in final plans


@dataclass(frozen=True)
class CityEntry:
    city: City
    documents: int


@dataclass(frozen=True)
class PartnersPage:
    partners: PartnerResponse | None  # None: nothing asked yet
    countries: list[str]  # to choose the twin's own from
    error: str | None = None
    kept: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExplorerPage:
    view: ExplorerView
    heatmap: Heatmap  # for the domain asked
    picked: PartnerResponse | None = None  # pilots for the twin picked or the challenge typed
    twin: City | None = None
    shared: list[PlanRecord] = field(default_factory=list)  # plans shared with the matching team reading it


@dataclass(frozen=True)
class InboxPage:
    events: list[Event]
    unread: int
    shared: list[PlanRecord]  # plans shared with the account (pilots, the matching team)


@dataclass(frozen=True)
class AccountPage:
    digest: Digest
    mail: bool  # whether this server sends mail at all
    error: str | None = None
    email: str | None = None  # as typed, when refused


@dataclass(frozen=True)
class AdminPage:
    added: list[City]  # cities taken in here, not from the corpus
    countries: list[str]
    accounts: list[User]  # for admins
    error: str | None = None
    choices: list[dict] = field(default_factory=list)  # the places a name may be, to pick from
    city: City | None = None  # the city just added


@dataclass(frozen=True)
class PairingPage:
    twin: str
    pilot: str
    meetings: list[Meeting]
    may_write: bool
    error: str | None = None
    added: Meeting | None = None


class KnowledgeBase(Core):
    _preparing: threading.Thread | None = None  # what warm_up left working in the background
    @cached_property
    def notes(self) -> Notes:
        return Notes(self)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.store)

    @cached_property
    def pairings(self) -> Pairings:
        return Pairings(self.store)

    @cached_property
    def workspace(self) -> Workspace:
        return Workspace(self, self.pairings)

    @cached_property
    def inbox(self) -> Inbox:
        return Inbox(self.store)

    @cached_property
    def digests(self) -> Digests:
        return Digests(self.store, self.settings)

    @cached_property
    def journal(self) -> Journal:
        return Journal(self)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.store)

    @cached_property
    def search_log(self) -> SearchLog:
        return SearchLog(self.store, self.settings.search_log_days)

    @cached_property
    def insights(self) -> Insights:
        return Insights(self)

    def close(self) -> None:
        """Close the store once the work in the background is done (it reads the store)."""
        if self._preparing is not None:
            self._preparing.join()
        if "search_log" in self.__dict__:
            self.search_log.close()
        super().close()

    # -- search ------------------------------------------------------------------------------

    def search(self, query: str, *, k: int = 10, mode: str = "hybrid", filters: dict[str, str] | None = None,
               correct: bool = True, asker: Asker | None = None) -> SearchResponse:
        """The k best documents; a search someone asks (`asker`) goes into the search log."""
        if asker is None:
            return search(self, query, k=k, mode=mode, filters=filters, correct=correct)
        read = self.queries.read(query, correct=correct, dense=mode != "keyword")
        response = search(self, read, k=k, mode=mode, filters=filters)
        self._log(read, response, filters, asker)
        return response

    def search_page(self, query: str, *, k: int, mode: str = "hybrid", filters: dict[str, str] | None = None,
                    correct: bool = True, user: User | None = None, asker: Asker | None = None) -> SearchPage:
        """Results, facet counts among the best matches without the filters (so that the other
        values of a filter still show what they would give), and pilot cities to learn from."""
        read = self.queries.read(query, correct=correct)  # once, for the three rankings and the partners
        response = search(self, read, k=k, mode=mode, filters=filters)
        hybrid = search(self, read, k=FACET_DEPTH, mode="hybrid")
        best = hybrid if mode == "hybrid" else search(self, read, k=FACET_DEPTH, mode=mode)
        unfiltered = len([r for r in hybrid.results if r.strong]) if filters and not hybrid.weak_match else 0
        ref = self._log(read, response, filters, asker) if asker is not None else None
        return SearchPage(response, facet_counts(best.results, filters or {}),
                          suggest(self, query, k=3, response=hybrid), self.workspace.kept(user), unfiltered, ref)

    def _log(self, read, response: SearchResponse, filters: dict[str, str] | None, asker: Asker) -> str | None:
        return self.search_log.record(
            read.text, language=response.language, filters={k: v for k, v in (filters or {}).items() if v},
            mode=response.mode, results=len(response.results), weak=response.weak_match, asker=asker,
            vector=read.vector, model_id=self.embedder.model_id if read.vector is not None else None)

    def keep(self, user: User | None, doc_id: str, visit: str | None = None):
        """Keep a practice on the user's twin's shortlist; the searches of the browser session
        `visit` led to it."""
        item = self.workspace.keep(user, doc_id)
        self.search_log.kept(visit)
        return item

    def similar(self, doc_id: str, k: int = 10) -> list[SearchResult]:
        return similar(self, doc_id, k=k)

    # -- documents and cities ----------------------------------------------------------------

    def document(self, doc_id: str) -> Practice:
        doc = self.store.document(doc_id)
        if doc is None:
            raise UnknownDocument(doc_id)
        return doc

    def original_file(self, ref: str) -> tuple[Path, str]:
        """A kept original's path and media type, while a document or a meeting lists it: a
        deleted note's files are kept (an admin may restore the note) but no longer served."""
        documents, _, meetings = self.store.holders_of_file(ref)
        if not documents and not meetings:
            raise NotFound(Message("no file %(file)s is kept; it may belong to a document since removed",
                                   file=repr(str(ref).rsplit("/", 1)[-1][:80])))
        return self.files.open(ref)

    def practice_page(self, doc_id: str, user: User | None, search_ref: str | None = None) -> PracticePage:
        """A practice and what surrounds it; opened from the results of the logged search
        `search_ref`, which this marks as clicked."""
        doc = self.document(doc_id)
        if search_ref:
            self.search_log.clicked(search_ref)
        published = doc.kind == "case_note" and doc.path is None
        return PracticePage(
            doc=doc, city=self.store.city(doc.city) if doc.city else None, similar=similar(self, doc_id, k=5),
            note=self.notes.find(doc_id) if published else None, may_change=may_change(user, doc.city),
            kept=doc_id in self.workspace.kept(user), adopters=self.workspace.adopters(doc_id),
            passages=self.store.passages_of(doc_id),
        )

    def cities(self) -> list[CityEntry]:
        counts = self.store.document_counts_by_city()
        return [CityEntry(c, counts.get(c.city, 0)) for c in self.store.cities()]

    def city_page(self, name: str, user: User | None = None) -> CityPage:
        """A city's profile, practices, notes and pairings; a city the profiles lack but the
        documents name gets the documents that name it."""
        profile = self.store.city(name)
        documents = self.store.documents_of_city(name)
        mentioned = []
        if profile is None and not documents and name.strip():
            mentioned = search(self, f'"{name}"', k=20, mode="keyword", correct=False).results
        if profile is None and not documents and not mentioned:
            raise NotFound(Message("No city called “%(name)s” is in the knowledge base. See the list of cities.",
                                   name=name))
        city = profile.city if profile else name
        own = user is not None and user.role == "pilot" and user.city == city
        return CityPage(city, profile,
                        [d for d in documents if d.kind != "case_note"], [d for d in documents if d.kind == "case_note"],
                        self.pairings.of(city), mentioned,
                        self.notes.deleted(name) if user is not None and user.role == "admin" else [],
                        self.journal.of_city(city), self.workspace.kept_by(documents),
                        self.workspace.shared_plans(user) if own else [],
                        pilot_reach(self, city) if profile is not None and profile.role == "pilot" else None)

    # -- matching ----------------------------------------------------------------------------

    def suggest_partners(self, challenge: str, profile: Profile | None = None, k: int = 5) -> PartnerResponse:
        return suggest(self, challenge, profile, k=k)

    def partners_page(self, challenge: str | None, profile: Profile, k: int = 5,
                      user: User | None = None) -> PartnersPage:
        """Suggestions for `challenge` (None: the empty form), or what is wrong with the request."""
        countries = sorted({c.country for c in self.store.cities()})
        if challenge is None:
            return PartnersPage(None, countries)
        try:
            return PartnersPage(suggest(self, challenge, profile, k=k), countries, kept=self.workspace.kept(user))
        except Invalid as exc:
            return PartnersPage(None, countries, refusal(exc))

    @cached_property
    def _explorer(self) -> Explorer:
        return Explorer(self, self.pairings)

    def explorer(self, domain: str | None = None, twin: str | None = None, challenge: str | None = None,
                 user: User | None = None) -> ExplorerPage:
        """The matching team's views (cached per state of the knowledge base), the heatmap for
        `domain`, and the pilots for the `twin` picked (its challenge) or the `challenge` typed."""
        if domain and domain not in DOMAINS:
            raise Invalid(Message("unknown domain %(domain)s; use one of %(domains)s", domain=repr(domain),
                                  domains=", ".join(DOMAINS)))
        view = self._explorer.view()
        picked, profile = None, None
        if twin:
            row = next((r for r in view.twins if r.twin.city.casefold() == twin.casefold()), None)
            if row is None:
                raise NotFound(Message("no twin city called %(twin)s", twin=repr(twin)))
            profile = row.twin
            picked = suggest(self, row.challenge or row.twin.city, Profile(profile.city, profile.country,
                                                                           profile.population))
        elif challenge:
            picked = suggest(self, challenge)
        return ExplorerPage(view, view.heatmap.for_domain(domain), picked, profile, self.workspace.shared_plans(user))

    # -- people working together -------------------------------------------------------------

    def inbox_page(self, user: User | None) -> InboxPage:
        return InboxPage(self.inbox.events(user), self.inbox.unread(user), self.workspace.shared_plans(user))

    def mark_read(self, user: User | None, ids: list[int] | None = None) -> InboxPage:
        self.inbox.mark_read(user, ids)
        return self.inbox_page(user)

    def open_event(self, user: User | None, event_id: int) -> str:
        """Mark an event read; where it happened (the inbox, for an event that is not the user's)."""
        link = next((e.link for e in self.inbox.events(user) if e.id == event_id), "/inbox")
        self.inbox.mark_read(user, [event_id])
        return link

    def account_page(self, user: User | None, email: str | None = None, frequency: str | None = None) -> AccountPage:
        """The account's page; with `frequency`, its digest chosen first (or why not)."""
        error = None
        if frequency is not None:
            try:
                self.digests.choose(user, email or "", frequency)
            except Invalid as exc:
                error = refusal(exc)
        return AccountPage(self.digests.choice(user), bool(self.settings.smtp_url), error, email if error else None)

    def admin_page(self, user: User | None, new: dict | None = None) -> AdminPage:
        """The admin page; with `new` (name, country, role, cohort, geonameid), that city added
        first, or why not (with the places to choose from when its name is several)."""
        if user is None:
            raise Unauthenticated(Message("log in as an admin or the matching team"))
        if user.role not in MATCHING_ROLES:
            raise Forbidden(Message("the admin page is for admins and the matching team"))
        error, choices, city = None, [], None
        if new is not None:
            try:
                city = self.registry.add(user, **new)
            except Invalid as exc:
                error, choices = (None, exc.data["choices"]) if "choices" in exc.data else (refusal(exc), [])
        cities = self.store.cities()
        return AdminPage([c for c in cities if is_added(c)], sorted({c.country for c in cities}),
                         self.accounts.list() if user.role == "admin" else [], error, choices, city)

    def pairing_page(self, user: User | None, twin: str, pilot: str, meeting: dict | None = None,
                     uploads: Sequence[tuple[str, bytes]] = ()) -> PairingPage:
        """A pairing's journal; with `meeting`, that meeting recorded first with its files (or why not)."""
        twin, pilot = self.journal.pairing(twin, pilot)
        error, added = None, None
        if meeting is not None:
            try:
                added = self.journal.add(user, twin, pilot, meeting, uploads)
            except Invalid as exc:
                error = refusal(exc)
        return PairingPage(twin, pilot, self.journal.meetings(twin, pilot),
                           self.journal.may_write(user, twin, pilot), error, added)

    # -- state -------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Check the index against the store (repairing it), load the model and make the spelling
        dictionary and the documents' English words, before the first visitor's search has to;
        the explorer's views (read, when `kb serve` found them) and the insights' gaps are found
        in the background (a first visitor who comes sooner waits only for what remains)."""
        self.refresh_index()
        self.queries.prepare()
        self.queries.read("district heating")
        load_clustering()
        self._preparing = threading.Thread(target=self.prepare_views, name="prepare-views", daemon=True)
        self._preparing.start()

    def settle(self) -> None:
        """Wait for what `warm_up` left working in the background."""
        if self._preparing is not None:
            self._preparing.join()

    def prepare_views(self) -> None:
        """The explorer's views (kept in the data folder for this state) and the knowledge gaps."""
        try:
            self._explorer.view()
            self.insights.prepare()
        except Exception:  # noqa: BLE001 - each page computes its own if this could not
            log.warning("the explorer or the knowledge gaps could not be prepared at start", exc_info=True)

    def health(self) -> dict:
        """Liveness and what is being served; the index is caught up with the store first."""
        state = self.refresh_index()
        return {"status": "ok", "documents": self.store.document_count(),
                "passages": self.store.passage_count(), "index": state.status,
                "model": self.embedder.model_id, "query_runtime": self.embedder.query_runtime}

    def info(self) -> dict:
        """Counts, model and index state, for `kb info`."""
        counts = self.store.counts()
        manifest = self.live.files.manifest()
        version = self.store.version()
        index_state = "missing"
        if manifest is not None:
            current = manifest.store_version == version and manifest.model_id == self.model_id
            index_state = "current" if current else "stale (rebuilt from stored vectors on next use)"
        return {
            "data": str(self.data),
            "model": self.model_id,
            "query_runtime": self.embedder.query_runtime,
            "store_version": version,
            "index": {"state": index_state, **({"count": manifest.count, "dim": manifest.dim} if manifest else {})},
            **counts,
        }


def refusal(exc: KBError) -> str:
    """A refusal's message as a page shows it, still translatable: the Message it was raised with,
    or its problems joined as they are in English ('a; b') with each kept a Message."""
    message = exc.message
    if len(exc.errors) > 1 and "; ".join(exc.errors) == message:
        message = exc.errors[-1]
        for problem in reversed(exc.errors[:-1]):
            message = Message("%(problem)s; %(more)s", problem=problem, more=message)
    return message
