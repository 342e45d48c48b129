"""A pairing's journal: its meetings (workshops, digital meetings, site visits), with their date,
programme module, who took part, a short record of what came of them and files (minutes, slides:
the notes' file rules, kb/files). Written by either city of the pairing or the matching team; the
other side learns of it in its inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from urllib.parse import quote

from kb.accounts import MATCHING_ROLES, User
from kb.core import Core
from kb.documents import MODULES
from kb.errors import Forbidden, Invalid, NotFound, Unauthenticated
from kb.files import BadFile, extract, reference
from kb.inbox import Audience, tell
from kb.messages import N_, Message, in_field
from kb.store import Meeting

MEETING_KINDS = {"workshop": N_("Workshop"), "digital": N_("Digital meeting"), "site-visit": N_("Site visit")}
MAX_PARTICIPANTS, MAX_RECORD, MAX_FILES = 500, 5_000, 5


class Journal:
    def __init__(self, kb: Core):
        self.kb, self.store = kb, kb.store

    def pairing(self, twin: str, pilot: str) -> tuple[str, str]:
        found = next((p for p in self.store.pairings()
                      if (p.twin.casefold(), p.pilot.casefold()) == (twin.casefold(), pilot.casefold())), None)
        if found is None:
            raise NotFound(Message("%(twin)s is not paired with %(pilot)s; the matching team records pairings",
                                   twin=twin, pilot=pilot))
        return found.twin, found.pilot

    @staticmethod
    def may_write(user: User | None, twin: str, pilot: str) -> bool:
        return user is not None and (user.role in MATCHING_ROLES or user.city in (twin, pilot))

    def meetings(self, twin: str, pilot: str) -> list[Meeting]:
        twin, pilot = self.pairing(twin, pilot)
        return self.store.meetings(twin, pilot)

    def of_city(self, city: str) -> list[Meeting]:
        """Every meeting of the pairings `city` takes part in, newest first."""
        return sorted(self.store.meetings(twin=city) + self.store.meetings(pilot=city),
                      key=lambda m: (m.date, m.id), reverse=True)

    def add(self, user: User | None, twin: str, pilot: str, fields: dict,
            uploads: Sequence[tuple[str, bytes]] = ()) -> Meeting:
        """Record a meeting with its files (name, content), each checked as a note's attachment is."""
        twin, pilot = self.pairing(twin, pilot)
        if user is None:
            raise Unauthenticated(Message("log in as one of the two cities or the matching team to record a meeting"))
        if not self.may_write(user, twin, pilot):
            raise Forbidden(Message("%(twin)s, %(pilot)s and the matching team record the meetings of their pairing",
                                    twin=twin, pilot=pilot))
        meeting = replace(_checked(twin, pilot, fields), files=self._keep(uploads))
        with self.store.write(documents=False) as tx:
            meeting_id = tx.add_meeting(meeting, user.id)
            others = (twin, pilot) if user.role in MATCHING_ROLES else tuple(c for c in (twin, pilot) if c != user.city)
            tell(tx, self.store, Audience(others), "meeting",
                 Message("%(kind)s of %(twin)s and %(pilot)s on %(date)s recorded by %(user)s",
                         kind=Message(MEETING_KINDS[meeting.kind]), twin=twin, pilot=pilot, date=meeting.date,
                         user=user.username),
                 f"/cities/{quote(twin)}#meeting-{meeting_id}", user)
        return next(m for m in self.store.meetings(twin, pilot) if m.id == meeting_id)

    def _keep(self, uploads: Sequence[tuple[str, bytes]]) -> tuple[str, ...]:
        """The uploads kept, by reference, once every one is a file the knowledge base reads."""
        settings, errors = self.kb.settings, []
        if len(uploads) > MAX_FILES:
            errors.append(Message("at most %(max)s files to a meeting", field="files", max=MAX_FILES))
        for name, data in uploads:
            try:
                extract(data, name, max_bytes=settings.max_file_bytes, max_pages=settings.max_pages)
            except BadFile as exc:
                errors.append(in_field(exc.message, "files"))
        if errors:
            raise Invalid("; ".join(errors), errors)
        refs = []
        for name, data in uploads:
            refs.append(reference(name, data))
            self.kb.files.keep(refs[-1], data)
        return tuple(dict.fromkeys(refs))


def _checked(twin: str, pilot: str, fields: dict) -> Meeting:
    def text(name: str, most: int) -> str:
        value = fields.get(name, "")
        if not isinstance(value, str) or len(value) > most:
            errors.append(Message("text of at most %(max)s characters", field=name, max=most))
            return ""
        return value.strip()

    errors: list[str] = []
    kind, module = fields.get("kind"), fields.get("module")
    if kind not in MEETING_KINDS:
        errors.append(Message("one of %(kinds)s", field="kind", kinds=", ".join(MEETING_KINDS)))
    if module not in MODULES:
        errors.append(Message("one of %(modules)s", field="module", modules=", ".join(MODULES)))
    when = fields.get("date")
    try:
        when = date.fromisoformat(when).isoformat() if isinstance(when, str) else None
    except ValueError:
        when = None
    if when is None:
        errors.append(Message("the day it took place, as YYYY-MM-DD", field="date"))
    participants, record = text("participants", MAX_PARTICIPANTS), text("record", MAX_RECORD)
    if not record and not any(e.startswith("record") for e in errors):
        errors.append(Message("say in a few lines what came of the meeting", field="record"))
    if errors:
        raise Invalid("; ".join(errors), errors)
    return Meeting(0, twin, pilot, kind, when, module, participants, record, (), None, "")
