"""E-mail digests, sent to an SMTP server the test starts (aiosmtpd): what is unread since the
last digest, when the account's period has passed; nothing at all without KB_SMTP_URL."""

from datetime import datetime, timedelta, timezone
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from kb.errors import Invalid
from kb.inbox import Digests
from kb.settings import Settings

from tests.conftest import free_port


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def people(indexed):
    for name, role, city in [("oulu", "twin", "Oulu"), ("hel", "pilot", "Helsinki"), ("team", "matching", None)]:
        indexed.accounts.add(name, role, city)
    return {n: indexed.accounts.get(n) for n in ("oulu", "hel", "team")}


def digests(kb, url: str) -> Digests:
    return Digests(kb.store, Settings.from_env(data=str(kb.data)) if not url else
                   Settings(kb.data, None, "auto", smtp_url=url, mail_from="kb@city.eu", site_url="https://kb.example"))


def test_a_digest_carries_what_is_unread_and_comes_once_per_period(indexed, people, smtp):
    sink, url = smtp
    mail = digests(indexed, url)
    mail.choose(people["hel"], "energy@helsinki.fi", "daily")
    mail.choose(people["team"], "team@programme.eu", "weekly")
    indexed.pairings.add(None, "Oulu", "Helsinki", operator=True)
    indexed.workspace.share(people["oulu"], True)
    now = datetime.now(timezone.utc) + timedelta(seconds=5)
    assert sorted(mail.send(now).sent) == ["energy@helsinki.fi", "team@programme.eu"]
    to, message = next((to, m) for to, m in sink.messages if to == ["energy@helsinki.fi"])
    body = message.get_payload().replace("\r\n", "\n")
    assert message["From"] == "kb@city.eu" and "2 new for hel" in message["Subject"]
    assert "Plan shared: Oulu shared its replication plan with you\n  https://kb.example/plans/Oulu" in body
    assert "Helsinki is paired with Oulu" in body and "https://kb.example/account" in body
    assert mail.send(now + timedelta(hours=1)).sent == []  # not due again yet
    indexed.workspace.comment(people["hel"], "Oulu", "costs", "Which funds?")
    indexed.workspace.comment(people["oulu"], "Oulu", "costs", "Our own.")
    assert mail.send(now + timedelta(days=1, seconds=10)).sent == ["energy@helsinki.fi"]  # the team's week is not over
    latest = sink.messages[-1][1].get_payload().replace("\r\n", "\n")
    assert "Our own." in latest and "Oulu shared" not in latest  # only what came since the last digest
    indexed.inbox.mark_read(people["team"])
    assert mail.send(now + timedelta(days=8)).sent == []  # read: nothing to send


def test_nothing_is_sent_without_an_smtp_server(indexed, people, smtp, monkeypatch):
    sink, _ = smtp
    monkeypatch.delenv("KB_SMTP_URL", raising=False)
    mail = digests(indexed, "")
    mail.choose(people["hel"], "energy@helsinki.fi", "daily")
    indexed.pairings.add(None, "Oulu", "Helsinki", operator=True)
    run = mail.send(datetime.now(timezone.utc) + timedelta(days=2))
    assert run.sent == [] and "KB_SMTP_URL is not set" in run.reason and sink.messages == []


def test_a_digest_needs_an_address_and_a_known_frequency(indexed, people):
    mail = digests(indexed, "")
    with pytest.raises(Invalid, match="email"):
        mail.choose(people["hel"], "not an address", "daily")
    with pytest.raises(Invalid, match="frequency"):
        mail.choose(people["hel"], "a@b.eu", "hourly")
    assert mail.choose(people["hel"], "", "none").frequency == "none"
    with pytest.raises(ValueError, match="KB_SMTP_URL"):
        Settings.from_env(smtp_url="mail.example:25")


def test_a_digest_is_written_in_the_language_its_account_chose(indexed, people, smtp):
    """The events were told in English words kept as messages: each reader gets them in theirs."""
    from kb.messages import translate

    sink, url = smtp
    mail = digests(indexed, url)
    indexed.accounts.set_language("hel", "sv")
    mail.choose(people["hel"], "energy@helsinki.fi", "daily")
    indexed.pairings.add(None, "Oulu", "Helsinki", operator=True)
    indexed.workspace.share(people["oulu"], True)
    assert mail.send(datetime.now(timezone.utc) + timedelta(seconds=5)).sent == ["energy@helsinki.fi"]
    message = sink.messages[-1][1]
    body = message.get_payload(decode=True).decode("utf-8")
    assert message["Content-Language"] == "sv" and "new for hel" not in message["Subject"]
    shared = translate("Plan shared", "sv")
    assert shared != "Plan shared" and f"{shared}: " in body and "shared its replication plan" not in body
    assert "Oulu" in body and "https://kb.example/plans/Oulu" in body  # the values stay as they were
