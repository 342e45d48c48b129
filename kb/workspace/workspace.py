"""A twin's workspace: the practices it keeps, and the replication plan it writes from them.

Who may do what (the plan is the twin's until it shares it):
- the twin's own accounts read, edit, share, resolve comments, export and finalise;
- once shared, the pilots it is paired with, the matching team and admins read, comment and export;
- a final plan is a public document: everyone reads it, here as in search and on practice pages;
  the matching team or an admin may reopen it (a new version; the document is withdrawn);
- nobody else reads a plan that is not final.
Whom it concerns learns of it in their inbox (kb/inbox), written in the same transaction.
A plan is versioned like a case note: every save names the version it started from, and a save
from an older version is refused with both texts, so two tabs cannot overwrite each other."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import quote

from kb.accounts import MATCHING_ROLES, User
from kb.core import Core
from kb.documents import MODULES, Practice
from kb.errors import Conflict, Forbidden, Invalid, NotFound, StaleEdit, Unauthenticated
from kb.inbox import Audience, tell
from kb.matching import Pairings, UnknownDocument
from kb.messages import N_, Message, translate
from kb.store import City, Meeting, PlanComment, PlanRecord, ShortlistItem
from kb.workspace.export import FORMATS, export
from kb.workspace.sections import SECTIONS, SECTION_NAMES, actions_markdown, plan_doc_id, plan_document, table_cell

STATUSES = ("considering", "adopting", "dropped")
MAX_SECTION, MAX_NOTE, MAX_COMMENT = 20_000, 2_000, 2_000
FINALISE_TRIES = 3  # a plan saved while its final document is embedded: read again, at most this often


@dataclass(frozen=True)
class KeptPractice:
    item: ShortlistItem
    doc: Practice


@dataclass(frozen=True)
class WorkspacePage:
    twin: City
    modules: tuple[str, ...]
    paired: list[str]
    groups: dict[str, list[KeptPractice]]  # module -> kept practices
    plan: PlanRecord | None


@dataclass(frozen=True)
class PlanPage:
    twin: City
    plan: PlanRecord
    comments: list[PlanComment] = field(default_factory=list)
    versions: list[tuple[int, str]] = field(default_factory=list)
    may_edit: bool = False
    may_comment: bool = False
    paired: list[str] = field(default_factory=list)  # the pilots it is shared with
    adopted: list[Practice] = field(default_factory=list)  # the practices it adopts, as the shortlist says
    may_reopen: bool = False
    shared_with: str = ""  # whom sharing reaches, in words
    meetings: list[Meeting] = field(default_factory=list)  # of the twin's pairings: evidence for the plan


class PlanConflict(StaleEdit):
    """A save from an older version: the plan as it is now, and what the caller sent."""

    def __init__(self, current: PlanRecord, yours: dict[str, str]):
        super().__init__(Message("the plan was saved by someone else (now version %(version)s); both texts are "
                                 "given: merge them and save again", version=current.version),
                         current.version, current.sections, yours)
        self.current, self.yours = current, yours


@dataclass(frozen=True)
class PlanSubmission:
    page: PlanPage
    conflict: PlanConflict | None = None


def _module(doc: Practice) -> str:
    """The programme module a practice belongs to: a workshop output's own, else co-creation,
    where twins learn from pilots' practice."""
    return doc.module or "co-creation"


class Workspace:
    def __init__(self, kb: Core, pairings: Pairings):
        self.kb, self.store, self.pairings = kb, kb.store, pairings

    # -- who ---------------------------------------------------------------------------------

    def twin_of(self, user: User | None) -> City:
        """The twin city a twin account works for."""
        if user is None:
            raise Unauthenticated(Message("log in with your twin city's account to keep practices and write the plan"))
        if user.role != "twin" or not user.city:
            raise Forbidden(Message("the workspace is for twin cities' accounts"))
        return self.store.city(user.city)

    def _plan_of(self, twin: str, language: str = "en") -> tuple[City, PlanRecord]:
        city = self.store.city(twin)
        if city is None or city.role != "twin":
            raise NotFound(Message("no twin city called %(twin)s", twin=repr(twin)))
        return city, self.store.plan(city.city) or self._new_plan(city.city, language)

    def may_read(self, user: User | None, twin: str, plan: PlanRecord) -> bool:
        """The one rule: a final plan is public (as its document in search is); any other is read
        by the twin's own accounts and, once shared, by its paired pilots and the matching team."""
        return plan.final or self._involved(user, twin, plan)

    def _involved(self, user: User | None, twin: str, plan: PlanRecord, pilots: list[str] | None = None) -> bool:
        """Whether `user` works on the plan: the twin's own, or once shared its pilots (`pilots`,
        read when not given) and the team."""
        if user is None:
            return False
        if user.role == "twin":
            return user.city == twin
        if not plan.shared:
            return False
        if user.role in MATCHING_ROLES:
            return True
        return user.role == "pilot" and user.city in (self._paired(twin) if pilots is None else pilots)

    def _paired(self, twin: str) -> list[str]:
        return [p.pilot for p in self.pairings.all() if p.twin == twin]

    def _check_read(self, user: User | None, twin: str, plan: PlanRecord) -> None:
        if self.may_read(user, twin, plan):
            return
        if user is None:
            raise Unauthenticated(Message("log in to read replication plans"))
        raise Forbidden(Message("%(twin)s's plan is read by its own team and, once shared, by its paired pilots "
                                "and the matching team; everyone reads it once it is final", twin=twin))

    def _audience(self, twin: str) -> Audience:
        """Who follows a shared plan: its twin's accounts, its paired pilots', the matching team."""
        return Audience((twin, *self._paired(twin)), team=True)

    def _editor(self, user: User | None, twin: str | None) -> str:
        """The twin whose plan `user` changes: its own (`twin`, when named, must be it)."""
        own = self.twin_of(user).city
        if twin is not None and twin.casefold() != own.casefold():
            raise Forbidden(Message("only %(twin)s's own accounts change its plan", twin=twin))
        return own

    # -- shortlist ---------------------------------------------------------------------------

    def keep(self, user: User | None, doc_id: str) -> ShortlistItem:
        twin = self.twin_of(user)
        doc = self.store.document(doc_id)
        if doc is None:
            raise UnknownDocument(doc_id)
        with self.store.write(documents=False) as tx:
            if tx.keep(twin.city, doc_id, user.id) and doc.city:
                tell(tx, self.store, Audience((doc.city,)), "kept",
                     Message("%(twin)s keeps your practice “%(title)s”", twin=twin.city, title=doc.title),
                     f"/doc/{doc.id}", user)
        return self._item(twin.city, doc_id)

    def update(self, user: User | None, doc_id: str, status: str, note: str) -> ShortlistItem:
        twin = self.twin_of(user)
        if status not in STATUSES:
            raise Invalid(Message("%(status)s is not one of %(statuses)s", field="status", status=repr(status),
                                  statuses=", ".join(STATUSES)))
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise Invalid(Message("at most %(max)s characters of text", field="note", max=MAX_NOTE))
        before = next((item for item in self.store.shortlist(twin.city) if item.doc_id == doc_id), None)
        doc = self.store.document(doc_id)
        with self.store.write(documents=False) as tx:
            if not tx.update_kept(twin.city, doc_id, status, note.strip()):
                raise NotFound(Message("%(doc_id)s is not on %(twin)s's shortlist", doc_id=repr(doc_id),
                                       twin=twin.city))
            if status == "adopting" and before and before.status != "adopting" and doc and doc.city:
                tell(tx, self.store, Audience((doc.city,)), "adopted",
                     Message("%(twin)s is adopting your practice “%(title)s”", twin=twin.city, title=doc.title),
                     f"/doc/{doc.id}", user)
        return self._item(twin.city, doc_id)

    def drop(self, user: User | None, doc_id: str) -> None:
        twin = self.twin_of(user)
        with self.store.write(documents=False) as tx:
            if not tx.unkeep(twin.city, doc_id):
                raise NotFound(Message("%(doc_id)s is not on %(twin)s's shortlist", doc_id=repr(doc_id),
                                       twin=twin.city))

    def kept(self, user: User | None) -> frozenset[str]:
        """The documents the user's twin keeps (none for other users)."""
        if user is None or user.role != "twin" or not user.city:
            return frozenset()
        return frozenset(item.doc_id for item in self.store.shortlist(user.city))

    def shortlist(self, user: User | None) -> list[KeptPractice]:
        twin = self.twin_of(user)
        items = self.store.shortlist(twin.city)
        docs = self.store.documents(item.doc_id for item in items)
        return [KeptPractice(item, docs[item.doc_id]) for item in items if item.doc_id in docs]

    def _item(self, twin: str, doc_id: str) -> ShortlistItem:
        return next(item for item in self.store.shortlist(twin) if item.doc_id == doc_id)

    def page(self, user: User | None) -> WorkspacePage:
        """The shortlist by programme module, each practice once (its domains are its tags)."""
        twin = self.twin_of(user)
        groups: dict[str, list[KeptPractice]] = {m: [] for m in MODULES}
        for kept in self.shortlist(user):
            groups[_module(kept.doc)].append(kept)
        return WorkspacePage(twin, MODULES, self._paired(twin.city), groups, self.store.plan(twin.city))

    # -- the plan ----------------------------------------------------------------------------

    def _adopting(self, twin: str) -> list[tuple[ShortlistItem, Practice]]:
        """The kept practices the twin marks as adopting, with their documents."""
        items = [item for item in self.store.shortlist(twin) if item.status == "adopting"]
        docs = self.store.documents(item.doc_id for item in items)
        return [(item, docs[item.doc_id]) for item in items if item.doc_id in docs]

    def _new_plan(self, twin: str, language: str = "en") -> PlanRecord:
        """Version 0: not saved yet; the practices the twin marked as adopting prefill their table,
        whose headers are in the language the twin reads the page in."""
        adopting = self._adopting(twin)
        rows = "".join(f"| {table_cell(doc.title)} | {table_cell(doc.city or '')} | {table_cell(item.note)} |\n" for item, doc in adopting)
        words = (N_("Practice"), N_("Pilot city"), N_("How we adapt it"))
        header = " | ".join(translate(word, language) for word in words)
        practices = f"| {header} |\n| --- | --- | --- |\n" + (rows or "|  |  |  |\n")
        sections = {name: "" for name, _ in SECTIONS} | {"practices": practices,
                                                         "steps": actions_markdown([], language=language)}
        return PlanRecord(twin, 0, sections, False, False, tuple(doc.id for _, doc in adopting), "")

    def plan(self, user: User | None, twin: str | None = None, language: str = "en") -> PlanPage:
        """A plan as its reader may see it: the user's own twin's when `twin` is None (a plan not
        saved yet prefilled in `language`)."""
        twin = twin or self.twin_of(user).city
        city, plan = self._plan_of(twin, language)
        self._check_read(user, city.city, plan)
        editor = user is not None and user.role == "twin" and user.city == city.city
        pilots = self._paired(city.city)
        involved = self._involved(user, city.city, plan, pilots)
        docs = self.store.documents(plan.adopted)
        return PlanPage(city, plan, self.store.plan_comments(city.city) if involved else [],
                        self.store.plan_versions(city.city), may_edit=editor and not plan.final,
                        may_comment=involved, paired=pilots,
                        adopted=[docs[d] for d in plan.adopted if d in docs],
                        may_reopen=plan.final and user is not None and user.role in MATCHING_ROLES,
                        shared_with=_reach(city.city, pilots),
                        meetings=self.store.meetings(twin=city.city) if involved else [])

    def save(self, user: User | None, sections: dict, version: int, twin: str | None = None) -> PlanRecord:
        """Save some or all sections, from the plan at `version`; PlanConflict if it moved on."""
        twin = self._editor(user, twin)
        sections = _check_sections(sections)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise Invalid(Message("the version of the plan the changes start from, a whole number", field="version"))
        adopted = tuple(doc.id for _, doc in self._adopting(twin))  # read before the write takes the lock
        with self.store.write(documents=False) as tx:
            current = tx.plan(twin) or self._new_plan(twin)
            if current.final:
                raise Conflict(Message("the plan is final; it can no longer change"))
            if current.version != version:
                raise PlanConflict(current, sections)
            saved = replace(current, version=version + 1, sections={**current.sections, **sections}, adopted=adopted)
            tx.save_plan(saved, user.id)
        return self.store.plan(twin)

    def submit(self, user: User | None, sections: dict, version: int) -> PlanSubmission:
        """A submitted editor: the plan saved, or the plan as it is now with the conflict."""
        try:
            self.save(user, sections, version)
        except PlanConflict as conflict:
            return PlanSubmission(self.plan(user), conflict)
        return PlanSubmission(self.plan(user))

    def share(self, user: User | None, shared: bool, twin: str | None = None) -> PlanRecord:
        twin = self._editor(user, twin)
        with self.store.write(documents=False) as tx:
            current = tx.plan(twin) or self._new_plan(twin)
            if current.final:
                raise Conflict(Message("the plan is final: it stays shared with the paired pilots and the matching "
                                       "team"))
            tx.save_plan(replace(current, version=current.version + 1, shared=bool(shared)), user.id)
            if shared and not current.shared:
                tell(tx, self.store, self._audience(twin), "plan_shared",
                     Message("%(twin)s shared its replication plan with you", twin=twin),
                     f"/plans/{quote(twin)}", user)
        return self.store.plan(twin)

    def sharing(self, user: User | None, shared: bool, twin: str | None = None) -> tuple[PlanRecord, str]:
        """`share`, and whom the plan reaches now, in words."""
        plan = self.share(user, shared, twin)
        return plan, _reach(plan.twin, self._paired(plan.twin)) if plan.shared else "its own accounts only"

    def comment(self, user: User | None, twin: str, section: str, text: str) -> PlanComment:
        city, plan = self._plan_of(twin)
        self._check_read(user, city.city, plan)
        if section not in SECTION_NAMES:
            raise Invalid(Message("%(section)s is not one of %(sections)s", field="section", section=repr(section),
                                  sections=", ".join(SECTION_NAMES)))
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_COMMENT:
            raise Invalid(Message("write the comment, at most %(max)s characters", field="text", max=MAX_COMMENT))
        if not self._involved(user, city.city, plan):
            raise Forbidden(Message("%(twin)s's own team, its paired pilots and the matching team comment on its plan",
                                    twin=city.city))
        earlier = {c.author for c in self.store.plan_comments(city.city) if c.author}
        others = tuple(u.id for name in earlier for u in [self.store.user(name)] if u is not None)
        with self.store.write(documents=False) as tx:
            comment_id = tx.add_comment(city.city, section, text.strip(), user.id)
            short = " ".join(text.split())[:120]
            tell(tx, self.store, Audience((city.city,), accounts=others), "comment",
                 Message("%(user)s on %(twin)s's plan (%(section)s): “%(text)s”", user=user.username, twin=city.city,
                         section=Message(SECTION_NAMES[section]), text=short),
                 f"/plans/{quote(city.city)}#comment-{comment_id}", user)
        return next(c for c in self.store.plan_comments(city.city) if c.id == comment_id)

    def resolve(self, user: User | None, twin: str, comment_id: int) -> None:
        twin = self._editor(user, twin)
        comment = next((c for c in self.store.plan_comments(twin) if c.id == comment_id), None)
        author = self.store.user(comment.author) if comment and comment.author else None
        with self.store.write(documents=False) as tx:
            if not tx.resolve_comment(twin, comment_id, user.id):
                raise NotFound(Message("no open comment %(comment)s on %(twin)s's plan", comment=comment_id, twin=twin))
            if author is not None:
                tell(tx, self.store, Audience(accounts=(author.id,)), "comment_resolved",
                     Message("%(twin)s resolved your comment: “%(text)s”", twin=twin,
                             text=" ".join(comment.text.split())[:120]),
                     f"/plans/{quote(twin)}#comment-{comment_id}", user)

    def finalise(self, user: User | None, twin: str | None = None) -> PlanRecord:
        """The plan made final: a searchable document of kind replication_plan, linked to the
        practices it adopts (the shortlist's "adopting" ones), which link back to it. The
        document is made from the plan as read; a save that lands while it is embedded makes
        the final write refuse (the store's version check), and the plan is read again."""
        twin = self.store.city(self._editor(user, twin))
        for attempt in range(1, FINALISE_TRIES + 1):
            current = self.store.plan(twin.city)
            if current is None or current.version == 0:
                raise Invalid(Message("save the plan before making it final"))
            if current.final:
                raise Conflict(Message("the plan is final already"))
            adopted = tuple(doc.id for _, doc in self._adopting(twin.city))
            if not adopted:
                raise Invalid(Message("mark at least one kept practice as adopting before making the plan final"))
            docs = self.store.documents(adopted)
            document = plan_document(twin, current, [docs[d] for d in adopted if d in docs])
            final = replace(current, version=current.version + 1, final=True, shared=True, adopted=adopted)

            def record(tx, final=final):
                tx.save_plan(final, user.id)
                tell(tx, self.store, self._audience(twin.city), "plan_finalised",
                     Message("%(twin)s's replication plan is final", twin=twin.city), f"/plans/{quote(twin.city)}",
                     user)

            try:
                self.kb.ingest([document], also=record)
                break
            except Conflict:
                if attempt == FINALISE_TRIES:
                    raise
        self.kb.refresh_index()
        return self.store.plan(twin.city)

    def reopen(self, user: User | None, twin: str) -> PlanRecord:
        """A final plan open for changes again (the matching team, admins): a new version, still
        shared; its searchable document is withdrawn until it is made final again."""
        if user is None:
            raise Unauthenticated(Message("log in as the matching team to reopen a plan"))
        if user.role not in MATCHING_ROLES:
            raise Forbidden(Message("the matching team or an admin reopens a final plan"))
        city, current = self._plan_of(twin)
        if not current.final:
            raise Conflict(Message("%(twin)s's plan is not final; there is nothing to reopen", twin=city.city))
        with self.store.write() as tx:
            tx.save_plan(replace(current, version=current.version + 1, final=False, shared=True), user.id)
            tx.remove_documents([plan_doc_id(city)])
            tell(tx, self.store, self._audience(city.city), "plan_reopened",
                 Message("%(user)s reopened %(twin)s's replication plan: it can be changed again, and is out of "
                         "search until it is made final again", user=user.username, twin=city.city),
                 f"/plans/{quote(city.city)}", user)
        self.kb.refresh_index()
        return self.store.plan(city.city)

    def shared_plans(self, user: User | None) -> list[PlanRecord]:
        """The plans shared with a pilot's or the matching team's account, final ones included."""
        if user is None or user.role == "twin":
            return []
        twins = ([p.twin for p in self.pairings.all() if p.pilot == user.city] if user.role == "pilot"
                 else [c.city for c in self.store.cities() if c.role == "twin"])
        plans = [self.store.plan(twin) for twin in dict.fromkeys(twins)]
        return sorted((p for p in plans if p is not None and p.shared), key=lambda p: p.updated_at, reverse=True)

    def export(self, user: User | None, twin: str, fmt: str, language: str = "en") -> tuple[bytes, str, str]:
        """(content, file name, media type) of the plan in `fmt`: md, docx or pdf, framed in `language`."""
        if fmt not in FORMATS:
            raise Invalid(Message("%(format)s is not one of %(formats)s", field="format", format=repr(fmt),
                                  formats=", ".join(FORMATS)))
        city, plan = self._plan_of(twin)
        self._check_read(user, city.city, plan)
        return export(city, plan, fmt, language=language)

    def kept_by(self, docs: list[Practice]) -> dict[str, list[tuple[str, str]]]:
        """Which twins keep each of `docs`, and at what status (a pilot sees how its practices travel)."""
        ids = {doc.id for doc in docs}
        found: dict[str, list[tuple[str, str]]] = {}
        for twin in (c.city for c in self.store.cities() if c.role == "twin"):
            for item in self.store.shortlist(twin):
                if item.doc_id in ids:
                    found.setdefault(item.doc_id, []).append((twin, item.status))
        return found

    def adopters(self, doc_id: str) -> list[str]:
        """The twins whose final plan adopts a practice."""
        return self.store.final_plans_adopting(doc_id)


def _check_sections(sections: dict) -> dict[str, str]:
    if not isinstance(sections, dict) or not sections:
        raise Invalid(Message("an object of section texts; sections are %(sections)s", field="sections",
                              sections=", ".join(SECTION_NAMES)))
    errors = [Message("unknown section; use %(sections)s", field=name, sections=", ".join(SECTION_NAMES))
              for name in sections if name not in SECTION_NAMES]
    errors += [Message("must be text of at most %(max)s characters", field=name, max=MAX_SECTION)
               for name, text in sections.items()
               if name in SECTION_NAMES and (not isinstance(text, str) or len(text) > MAX_SECTION)]
    if errors:
        raise Invalid("; ".join(errors), errors)
    return dict(sections)


def _reach(twin: str, pilots: list[str]) -> str:
    """Whom a shared plan reaches, in words: the plan's page and the API say it."""
    if pilots:
        return f"shared with {', '.join(pilots)} and the matching team"
    return (f"shared with the matching team only: no pilot city is paired with {twin} yet; the matching "
            "team (or an admin) records pairings, from the explorer or with `kb pairings add`")
