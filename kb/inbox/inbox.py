"""Each account's inbox: what concerns it, told by the room where it happened, inside the very
transaction that wrote it (a write that fails tells nobody; one that is answered is never lost),
read unread first and newest first, marked read one by one or all at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from kb.accounts import MATCHING_ROLES, User
from kb.errors import Invalid, Unauthenticated
from kb.messages import N_, Message
from kb.store import Event, Store, Transaction

# What an event may be about, and how the inbox names it.
KINDS = {
    "plan_shared": N_("Plan shared"),
    "comment": N_("Comment"),
    "comment_resolved": N_("Comment resolved"),
    "plan_finalised": N_("Plan made final"),
    "plan_reopened": N_("Plan reopened"),
    "case_note": N_("New case note"),
    "pairing": N_("New pairing"),
    "kept": N_("Practice kept"),
    "adopted": N_("Practice adopted"),
    "meeting": N_("Meeting recorded"),
    "request": N_("Case note asked for"),
}


@dataclass(frozen=True)
class Audience:
    """Whom an event is for: every account of some cities, and the matching team if `team`."""

    cities: tuple[str, ...] = ()
    team: bool = False
    accounts: tuple[int, ...] = ()  # besides, by id


def recipients(store: Store, audience: Audience, but: User | None = None) -> list[int]:
    """The ids of the enabled accounts `audience` names, without the one who acted."""
    cities = {c.casefold() for c in audience.cities}
    return [u.id for u in store.users()
            if not u.disabled and (but is None or u.id != but.id)
            and ((u.city or "").casefold() in cities or (audience.team and u.role in MATCHING_ROLES)
                 or u.id in audience.accounts)]


def tell(tx: Transaction, store: Store, audience: Audience, kind: str, text: Message, link: str,
         actor: User | None) -> None:
    """Put an event in the inbox of everyone `audience` names but the actor, within `tx`; its text
    kept as a Message, which each reader's inbox and digest show in their language."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    kept = text.dumps() if isinstance(text, Message) else text
    tx.notify(recipients(store, audience, actor), kind, kept, link, actor.id if actor else None)


class Inbox:
    def __init__(self, store: Store):
        self.store = store

    def events(self, user: User | None, limit: int = 200) -> list[Event]:
        """The account's events, each text a Message again (English as a `str`)."""
        return [replace(e, text=Message.loads(e.text)) for e in self.store.inbox(_account(user).id, limit)]

    def unread(self, user: User | None) -> int:
        """How many events the account has not read (0 for nobody logged in)."""
        return self.store.unread_count(user.id) if user is not None else 0

    def mark_read(self, user: User | None, ids: Iterable[int] | None = None) -> int:
        """Mark some events read (all when `ids` is None); how many were unread."""
        user = _account(user)
        if ids is not None:
            ids = list(ids)
            if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
                raise Invalid(Message("the events' ids, whole numbers", field="ids"))
        with self.store.write(documents=False) as tx:
            return tx.mark_read(user.id, ids)


def _account(user: User | None) -> User:
    if user is None:
        raise Unauthenticated(Message("log in to read your inbox"))
    return user
