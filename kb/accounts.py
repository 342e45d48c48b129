"""Accounts: pilots write their own city's case notes; passwords and tokens kept only as scrypt hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from kb.store import Store

ROLES = ("pilot", "matching", "admin")
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MAX_FAILURES, FAILURE_WINDOW_S = 5, 15 * 60


class AccountError(ValueError):
    """A user mistake in account management or login; the message says what to do."""


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


def _user(row) -> User:
    return User(row["id"], row["username"], row["city"], row["role"], bool(row["disabled"]))


class Accounts:
    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    def add(self, username: str, role: str, city: str | None = None) -> Credentials:
        username = (username or "").strip()
        if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise AccountError("the user name must be 1-64 letters, digits, '.', '-' or '_'")
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if role == "pilot":
            city = self._pilot_city(city)
        with self.store.transaction(documents=False) as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise AccountError(f"a user called {username!r} exists already; use kb users reset to renew it")
            cursor = db.execute(
                "INSERT INTO users (username, city, role, password_hash, token_hash) VALUES (?, ?, ?, '', '')",
                (username, city, role),
            )
            return self._renew(db, cursor.lastrowid, username)

    def _pilot_city(self, city: str | None) -> str:
        if not city:
            raise AccountError("a pilot account needs --city: the pilot city whose notes it writes")
        profile = self.store.city(city)
        if profile is None or profile.role != "pilot":
            raise AccountError(f"{city!r} is not a pilot city in cities.csv; index the corpus first, or check the spelling")
        return profile.city

    def _renew(self, db, user_id: int, username: str) -> Credentials:
        password = secrets.token_urlsafe(12)
        token = f"{user_id}.{secrets.token_urlsafe(32)}"  # the id finds the hash to check, the rest is the secret
        db.execute("UPDATE users SET password_hash = ?, token_hash = ? WHERE id = ?",
                   (hash_secret(password), hash_secret(token), user_id))
        return Credentials(username, password, token)

    def reset(self, username: str) -> Credentials:
        user = self.get(username)
        with self.store.transaction(documents=False) as db:
            db.execute("UPDATE users SET disabled = 0 WHERE id = ?", (user.id,))
            db.execute("DELETE FROM login_failures WHERE username = ?", (user.username,))
            return self._renew(db, user.id, user.username)

    def disable(self, username: str) -> None:
        user = self.get(username)
        with self.store.transaction(documents=False) as db:
            db.execute("UPDATE users SET disabled = 1 WHERE id = ?", (user.id,))

    def get(self, username: str) -> User:
        row = self.db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise AccountError(f"no user called {username!r}; kb users list shows them")
        return _user(row)

    def by_id(self, user_id: int) -> User | None:
        row = self.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _user(row) if row else None

    def list(self) -> list[User]:
        return [_user(r) for r in self.db.execute("SELECT * FROM users ORDER BY username")]

    def login(self, username: str, password: str) -> User:
        """The user, or AccountError; after MAX_FAILURES failures in FAILURE_WINDOW_S, refused."""
        now = time.time()
        failures = self.db.execute(
            "SELECT count(*), min(at) FROM login_failures WHERE username = ? AND at > ?",
            (username, now - FAILURE_WINDOW_S),
        ).fetchone()
        if failures[0] >= MAX_FAILURES:
            wait = int(failures[1] + FAILURE_WINDOW_S - now) // 60 + 1
            raise AccountError(f"too many failed logins for this account; try again in {wait} minutes")
        row = self.db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None or row["disabled"] or not verify_secret(password, row["password_hash"]):
            with self.store.transaction(documents=False) as db:
                db.execute("INSERT INTO login_failures VALUES (?, ?)", (username, now))
            raise AccountError("wrong user name or password")
        return _user(row)

    def by_token(self, token: str) -> User | None:
        user_id, _, secret = (token or "").partition(".")
        if not user_id.isdigit() or not secret:
            return None
        row = self.db.execute("SELECT * FROM users WHERE id = ?", (int(user_id),)).fetchone()
        if row is None or row["disabled"] or not verify_secret(token, row["token_hash"]):
            return None
        return _user(row)
