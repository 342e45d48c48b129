"""What concerns each account: its inbox, told by the room where something happened inside the
transaction that wrote it (inbox), and the e-mail digests of what it has not read (digests).
Knows accounts and the store; nothing of search, matching, notes or the workspace."""

from kb.inbox.digests import FREQUENCIES, DigestRun, Digests
from kb.inbox.inbox import KINDS, Audience, Inbox, recipients, tell

__all__ = ["Audience", "DigestRun", "Digests", "FREQUENCIES", "Inbox", "KINDS", "recipients", "tell"]
