"""E-mail digests: what an account has not read since its last digest, daily or weekly as it
chose, in the language it chose for the interface, mailed through the SMTP server of KB_SMTP_URL
by `kb digests send` (run from cron). Without KB_SMTP_URL nothing is ever sent."""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from kb.accounts import User
from kb.errors import Invalid, Unauthenticated
from kb.inbox.inbox import KINDS
from kb.messages import N_, Message, translate
from kb.settings import Settings
from kb.store import Digest, Event, Store

FREQUENCIES = {"none": None, "daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class DigestRun:
    sent: list[str]  # the addresses mailed
    reason: str = ""  # why nothing was sent at all


class Digests:
    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings

    def choice(self, user: User | None) -> Digest:
        return self.store.digests().get(_account(user).id, Digest("", "none", None))

    def choose(self, user: User | None, email: str, frequency: str) -> Digest:
        user = _account(user)
        email = email.strip() if isinstance(email, str) else ""
        if frequency not in FREQUENCIES:
            raise Invalid(Message("%(frequency)s is not one of %(frequencies)s", field="frequency",
                                  frequency=repr(frequency), frequencies=", ".join(FREQUENCIES)))
        if frequency != "none" and not (len(email) <= MAX_EMAIL and _EMAIL.match(email)):
            raise Invalid(Message("give the address the digest goes to, such as name@city.eu", field="email"))
        with self.store.write(documents=False) as tx:
            tx.set_digest(user.id, email, frequency)
        return self.choice(user)

    def send(self, now: datetime | None = None) -> DigestRun:
        """Mail each account whose period has passed what it has not read and no digest carried yet."""
        if not self.settings.smtp_url:
            return DigestRun([], "KB_SMTP_URL is not set: no mail is sent")
        now = now or datetime.now(timezone.utc)
        due = []
        for user_id, digest in self.store.digests().items():
            period = FREQUENCIES.get(digest.frequency)
            last = _parse(digest.sent_at)
            if period is None or (last is not None and now - last < period):
                continue
            events = [e for e in self.store.inbox(user_id) if not e.read and e.id > digest.last_event]
            user = self.store.user_by_id(user_id)
            if events and user is not None and not user.disabled:
                message = self._message(user.username, user.language or "en", digest, events)
                due.append((user_id, digest, message, events[0].id))
        sent = []
        if due:
            with _connect(self.settings.smtp_url) as smtp:
                for user_id, digest, message, newest in due:
                    smtp.send_message(message)
                    with self.store.write(documents=False) as tx:  # a digest that failed is sent again
                        tx.digest_sent(user_id, now.strftime(_STAMP), newest)
                    sent.append(digest.email)
        return DigestRun(sent)

    def _message(self, username: str, language: str, digest: Digest, events: list[Event]) -> EmailMessage:
        site = self.settings.site_url

        def say(template: str, **values) -> str:
            return translate(Message(template, **values), language)

        message = EmailMessage()
        message["From"], message["To"] = self.settings.mail_from, digest.email
        message["Subject"] = say(N_("Twin Cities knowledge base: %(n)s new for %(user)s"), n=len(events),
                                 user=username)
        since = (say(N_("What is new since your last digest (%(date)s):"), date=digest.sent_at[:10]) if digest.sent_at
                 else say(N_("What is new in your inbox:")))
        lines = [say(N_("Hello %(user)s,"), user=username), "", since, ""]
        lines += [f"- {say(KINDS[e.kind])}: {translate(Message.loads(e.text), language)}\n  {site}{e.link}"
                  for e in events]
        lines += ["", say(N_("Your inbox: %(link)s"), link=f"{site}/inbox"),
                  say(N_("Change or stop these digests: %(link)s"), link=f"{site}/account")]
        message.set_content("\n".join(lines))
        message["Content-Language"] = language  # after set_content, which sets the Content-* headers anew
        return message


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    kind = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    smtp = kind(parts.hostname or "localhost", parts.port or (465 if parts.scheme == "smtps" else 25), timeout=30)
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp


def _parse(stamp: str | None) -> datetime | None:
    return datetime.strptime(stamp, _STAMP).replace(tzinfo=timezone.utc) if stamp else None


def _account(user: User | None) -> User:
    if user is None:
        raise Unauthenticated(Message("log in to choose your e-mail digest"))
    return user
