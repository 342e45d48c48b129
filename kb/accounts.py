"""Accounts: who may write what; passwords kept as scrypt hashes, API tokens as SHA-256 hashes,
sessions on the server.

Login policy: after MAX_FAILURES failed logins for one account from one client address within
FAILURE_WINDOW_S, that address waits BACKOFF_S before its next try for that account, doubling
with each further failure up to FAILURE_WINDOW_S; an address with MAX_CLIENT_FAILURES failures
for any user names waits the same way. The account's owner, elsewhere, is not locked out. A
login does the same work whether or not the user name exists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import shlex
import threading
import time
from dataclasses import dataclass, replace

from kb.errors import Invalid, NotFound, RateLimited, Unauthenticated
from kb.messages import LOCALES, Message
from kb.store import Store, Transaction, UserRecord

# What an account may do (not a city's part in the programme: kb/documents/vocab.py CITY_ROLES).
ACCOUNT_ROLES = ("pilot", "twin", "matching", "admin")
MATCHING_ROLES = ("matching", "admin")  # the programme's own: they pair cities and read every shared plan
CITY_OF_ROLE = {"pilot": "pilot", "twin": "twin"}  # the accounts bound to a city, and the city's role
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MAX_FAILURES, MAX_CLIENT_FAILURES, FAILURE_WINDOW_S, BACKOFF_S = 5, 20, 15 * 60, 30
MAX_USERNAME, MAX_PASSWORD = 64, 256
SESSION_S = 8 * 3600
# A password hash of no account, checked when the user name is unknown so that a login takes
# as long either way.
_NO_ACCOUNT = "scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
# Tokens stored as scrypt hashes by earlier versions: checked one at a time, then re-hashed.
_LEGACY_TOKEN_CHECK = threading.Lock()


class AccountError(Invalid):
    """A user mistake in account management; the message says what to do."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    city: str | None
    role: str
    disabled: bool = False
    language: str | None = None  # the interface language chosen (one of kb.messages.LOCALES), None: not chosen


@dataclass(frozen=True)
class Credentials:
    """Shown once, when an account is created or reset."""

    username: str
    password: str
    token: str


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **SCRYPT, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_secret(secret: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
        actual = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), **SCRYPT, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def hash_token(token: str) -> str:
    """API tokens and session ids are long random strings: one fast hash is enough to keep
    them from being read back out of the store, and costs microseconds to check."""
    return "sha256$" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _verify_token(token: str, stored: str) -> bool:
    if stored.startswith("sha256$"):
        return hmac.compare_digest(hash_token(token), stored)
    with _LEGACY_TOKEN_CHECK:
        return verify_secret(token, stored)


def is_unicode(text: str) -> bool:
    """False for text with unpaired surrogates, which no store can keep."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _user(record: UserRecord) -> User:
    return User(record.id, record.username, record.city, record.role, record.disabled, record.language)


class Accounts:
    def __init__(self, store: Store):
        self.store = store

    def add(self, username: str, role: str, city: str | None = None) -> Credentials:
        username = (username or "").strip()
        if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise AccountError("the user name must be 1-64 letters, digits, '.', '-' or '_'")
        if role not in ACCOUNT_ROLES:
            raise AccountError(f"unknown role {role!r}; use one of {', '.join(ACCOUNT_ROLES)}")
        if role in CITY_OF_ROLE:
            city = self._city(city, CITY_OF_ROLE[role])
        with self.store.write(documents=False) as tx:
            if tx.user(username) is not None:
                raise AccountError(f"a user called {username!r} exists already; use kb users reset to renew it")
            user_id = tx.add_user(username, city, role)
            return self._renew(tx, user_id, username)

    def _city(self, city: str | None, role: str) -> str:
        if not city:
            raise AccountError(f"a {role} account needs --city: the {role} city it works for")
        profile = self.store.city(city)
        if profile is None or profile.role != role:
            raise AccountError(f"{city!r} is not a {role} city of the knowledge base; check the spelling, or add it "
                               f"first: kb cities add {shlex.quote(city)} --country COUNTRY --role {role}")
        return profile.city

    @staticmethod
    def _renew(tx: Transaction, user_id: int, username: str) -> Credentials:
        password = secrets.token_urlsafe(12)
        token = f"{user_id}.{secrets.token_urlsafe(32)}"  # the id finds the hash to check, the rest is the secret
        tx.set_user_secrets(user_id, hash_secret(password), hash_token(token))
        tx.end_sessions(user_id)
        return Credentials(username, password, token)

    def reset(self, username: str) -> Credentials:
        user = self.get(username)
        with self.store.write(documents=False) as tx:
            tx.set_user_disabled(user.id, False)
            tx.clear_login_failures(user.username)
            return self._renew(tx, user.id, user.username)

    def disable(self, username: str) -> None:
        user = self.get(username)
        with self.store.write(documents=False) as tx:
            tx.set_user_disabled(user.id, True)
            tx.end_sessions(user.id)

    def set_language(self, username_or_user: str | User, language: str | None) -> User:
        """Keep the interface language the account chose (None: none, the browser's is used);
        the account as it is now. An unknown code is refused, naming the ones there are."""
        if language is not None and language not in LOCALES:
            raise Invalid(Message("%(language)s is not a language of the interface; choose one of %(languages)s, "
                                  "or none", language=repr(str(language)[:20]), languages=", ".join(LOCALES)))
        user = username_or_user if isinstance(username_or_user, User) else self.get(username_or_user)
        with self.store.write(documents=False) as tx:
            if tx.user(user.username) is None:
                raise NotFound(Message("no user called %(user)s; kb users list shows them", user=repr(user.username)))
            tx.set_user_language(user.id, language)
        return replace(user, language=language)

    def get(self, username: str) -> User:
        record = self.store.user(username)
        if record is None:
            raise NotFound(Message("no user called %(user)s; kb users list shows them", user=repr(username)))
        return _user(record)

    def by_id(self, user_id: int) -> User | None:
        record = self.store.user_by_id(user_id)
        return _user(record) if record else None

    def list(self) -> list[User]:
        return [_user(r) for r in self.store.users()]

    def login(self, username: str, password: str, client: str = "") -> User:
        """The user, or Unauthenticated; RateLimited while `client` must wait (the module's policy)."""
        if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
            raise Invalid(Message("a user name has at most %(name)s characters and a password at most %(password)s",
                                  name=MAX_USERNAME, password=MAX_PASSWORD))
        if not (is_unicode(username) and is_unicode(password)):
            raise Invalid(Message("the user name and the password must be text (these characters are not)"))
        key, now = username.strip().lower(), time.time()
        self._check_backoff(*self.store.login_failures(key, client, now - FAILURE_WINDOW_S), MAX_FAILURES, now)
        self._check_backoff(*self.store.client_failures(client, now - FAILURE_WINDOW_S), MAX_CLIENT_FAILURES, now)
        record = self.store.user(username.strip())
        matches = verify_secret(password, record.password_hash if record else _NO_ACCOUNT)
        if record is None or record.disabled or not matches:
            with self.store.write(documents=False) as tx:
                tx.forget_before(now - FAILURE_WINDOW_S)
                tx.record_login_failure(key, client, now)
            raise Unauthenticated(Message("wrong user name or password"))
        with self.store.write(documents=False) as tx:
            tx.clear_login_failures(key, client)
        return _user(record)

    @staticmethod
    def _check_backoff(failures: int, last: float | None, allowed: int, now: float) -> None:
        if failures < allowed or last is None:
            return
        wait = min(FAILURE_WINDOW_S, BACKOFF_S * 2 ** (failures - allowed)) - (now - last)
        if wait > 0:
            raise RateLimited(Message("too many failed logins from here; try again in %(n)s seconds", n=int(wait) + 1),
                              data={"retry_after": int(wait) + 1})

    def by_token(self, token: str) -> User | None:
        user_id, _, secret = (token or "").partition(".")
        if not (user_id.isascii() and user_id.isdigit() and len(user_id) < 19) or not secret:
            return None
        record = self.store.user_by_id(int(user_id))
        if record is None or record.disabled or not _verify_token(token, record.token_hash):
            return None
        if not record.token_hash.startswith("sha256$"):
            with self.store.write(documents=False) as tx:
                tx.set_user_token_hash(record.id, hash_token(token))
        return _user(record)

    # -- sessions ------------------------------------------------------------------------------

    def start_session(self, user: User) -> str:
        """A new session for `user`: the secret its cookie carries."""
        secret = secrets.token_urlsafe(32)
        with self.store.write(documents=False) as tx:
            tx.add_session(hash_token(secret), user.id, time.time() + SESSION_S)
            tx.record_login(user.id)
        return secret

    def session(self, secret: str) -> User | None:
        """The user of a live session, if the account is still enabled."""
        user_id = self.store.session_user(hash_token(secret), time.time())
        user = self.by_id(user_id) if user_id is not None else None
        return user if user and not user.disabled else None

    def end_session(self, secret: str) -> None:
        with self.store.write(documents=False) as tx:
            tx.end_session(hash_token(secret))
