"""Accounts: pilots write their own city's case notes; passwords and tokens kept only as scrypt hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from kb.errors import Invalid, NotFound, RateLimited, Unauthenticated
from kb.store import Store, Transaction, UserRecord

# What an account may do (not a city's part in the programme: kb/vocab.py CITY_ROLES).
ACCOUNT_ROLES = ("pilot", "twin", "matching", "admin")
CITY_OF_ROLE = {"pilot": "pilot", "twin": "twin"}  # the accounts bound to a city, and the city's role
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MAX_FAILURES, FAILURE_WINDOW_S = 5, 15 * 60


class AccountError(Invalid):
    """A user mistake in account management; the message says what to do."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    city: str | None
    role: str
    disabled: bool = False


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


def _user(record: UserRecord) -> User:
    return User(record.id, record.username, record.city, record.role, record.disabled)


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
            raise AccountError(f"{city!r} is not a {role} city in cities.csv; index the corpus first, or check the spelling")
        return profile.city

    @staticmethod
    def _renew(tx: Transaction, user_id: int, username: str) -> Credentials:
        password = secrets.token_urlsafe(12)
        token = f"{user_id}.{secrets.token_urlsafe(32)}"  # the id finds the hash to check, the rest is the secret
        tx.set_user_secrets(user_id, hash_secret(password), hash_secret(token))
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

    def get(self, username: str) -> User:
        record = self.store.user(username)
        if record is None:
            raise NotFound(f"no user called {username!r}; kb users list shows them")
        return _user(record)

    def by_id(self, user_id: int) -> User | None:
        record = self.store.user_by_id(user_id)
        return _user(record) if record else None

    def list(self) -> list[User]:
        return [_user(r) for r in self.store.users()]

    def login(self, username: str, password: str) -> User:
        """The user, or Unauthenticated; after MAX_FAILURES failures in FAILURE_WINDOW_S, RateLimited."""
        now = time.time()
        failures, first = self.store.login_failures(username, now - FAILURE_WINDOW_S)
        if failures >= MAX_FAILURES:
            wait = int(first + FAILURE_WINDOW_S - now) // 60 + 1
            raise RateLimited(f"too many failed logins for this account; try again in {wait} minutes")
        record = self.store.user(username)
        if record is None or record.disabled or not verify_secret(password, record.password_hash):
            with self.store.write(documents=False) as tx:
                tx.record_login_failure(username, now)
            raise Unauthenticated("wrong user name or password")
        return _user(record)

    def by_token(self, token: str) -> User | None:
        user_id, _, secret = (token or "").partition(".")
        if not user_id.isdigit() or not secret:
            return None
        record = self.store.user_by_id(int(user_id))
        if record is None or record.disabled or not verify_secret(token, record.token_hash):
            return None
        return _user(record)
