import time

import pytest

from kb.accounts import BACKOFF_S, FAILURE_WINDOW_S, MAX_FAILURES, AccountError, Accounts
from kb.errors import KBError, RateLimited, Unauthenticated


@pytest.fixture
def accounts(indexed):
    return Accounts(indexed.store)


def test_credentials_work_and_only_hashes_are_stored(accounts):
    creds = accounts.add("hel", "pilot", city="helsinki")
    assert accounts.login("hel", creds.password).city == "Helsinki"
    assert accounts.by_token(creds.token).username == "hel"
    record = accounts.store.user("hel")
    assert creds.password not in record.password_hash and creds.token not in record.token_hash
    assert record.password_hash.startswith("scrypt$")
    other = accounts.add("other", "matching")
    assert accounts.store.user("other").password_hash != record.password_hash  # salted: no two hashes alike
    assert other.password != creds.password


def test_wrong_secrets_are_refused(accounts):
    creds = accounts.add("hel", "pilot", city="Helsinki")
    with pytest.raises(Unauthenticated, match="wrong user name or password"):
        accounts.login("hel", "guess")
    with pytest.raises(Unauthenticated):
        accounts.login("nobody", creds.password)
    assert accounts.by_token("1.guess") is None and accounts.by_token("garbage") is None


def test_repeated_failures_lock_the_login(accounts):
    creds = accounts.add("hel", "pilot", city="Helsinki")
    for _ in range(MAX_FAILURES):
        with pytest.raises(Unauthenticated):
            accounts.login("hel", "guess")
    with pytest.raises(RateLimited, match="too many failed logins"):
        accounts.login("hel", creds.password)
    renewed = accounts.reset("hel")
    assert accounts.login("hel", renewed.password).username == "hel"


def test_the_lockout_holds_one_client_back_not_the_owner_elsewhere(accounts, monkeypatch):
    creds = accounts.add("lockme", "pilot", city="Helsinki")
    for spelling in ["lockme", "LOCKME", " lockme ", "lockme", "LockMe"]:  # one account, however spelt
        with pytest.raises(Unauthenticated):
            accounts.login(spelling, "guess", client="10.0.0.66")
    with pytest.raises(RateLimited) as refused:
        accounts.login("lockme", creds.password, client="10.0.0.66")
    assert refused.value.data["retry_after"] <= BACKOFF_S
    assert accounts.login("lockme", creds.password, client="10.0.0.7").username == "lockme"  # the owner
    assert accounts.by_token(creds.token).username == "lockme"

    # the wait doubles with each failure after it passes, up to the window
    clock = [time.time()]
    monkeypatch.setattr("kb.accounts.time.time", lambda: clock[0])
    waits = []
    for _ in range(4):
        clock[0] += FAILURE_WINDOW_S / 20 + 1  # long enough for the first waits, short of the window
        try:
            accounts.login("lockme", "guess", client="10.0.0.66")
        except RateLimited as exc:
            waits.append(exc.data["retry_after"])
        except Unauthenticated:
            waits.append(0)
    assert waits[0] == 0 and max(waits) > BACKOFF_S


def test_a_success_clears_the_clients_failures_for_that_account(accounts):
    creds = accounts.add("hel", "pilot", city="Helsinki")
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(Unauthenticated):
            accounts.login("hel", "guess", client="c")
    accounts.login("hel", creds.password, client="c")
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(Unauthenticated):
            accounts.login("hel", "guess", client="c")  # counting starts again


def test_sessions_live_on_the_server(accounts):
    creds = accounts.add("hel", "pilot", city="Helsinki")
    user = accounts.login("hel", creds.password)
    first, second = accounts.start_session(user), accounts.start_session(user)
    assert accounts.session(first) == user and accounts.session("forged") is None
    accounts.end_session(first)
    assert accounts.session(first) is None and accounts.session(second) == user
    accounts.reset("hel")
    assert accounts.session(second) is None


def test_disable_and_reset(accounts):
    creds = accounts.add("hel", "pilot", city="Helsinki")
    accounts.disable("hel")
    assert accounts.by_token(creds.token) is None
    with pytest.raises(Unauthenticated):
        accounts.login("hel", creds.password)
    renewed = accounts.reset("hel")
    assert accounts.by_token(creds.token) is None and accounts.by_token(renewed.token).username == "hel"


@pytest.mark.parametrize("name, role, city, says", [
    ("p", "pilot", None, "needs --city"),
    ("p", "pilot", "Oulu", "not a pilot city"),
    ("p", "mayor", None, "unknown role"),
    ("bad name!", "admin", None, "user name"),
])
def test_bad_accounts_are_refused(accounts, name, role, city, says):
    with pytest.raises(AccountError, match=says):
        accounts.add(name, role, city)


def test_names_are_unique(accounts):
    accounts.add("a", "admin")
    with pytest.raises(AccountError, match="exists already"):
        accounts.add("A", "matching")


def test_account_changes_do_not_touch_the_document_version(accounts):
    """The store version tells every process to catch its index up; accounts are not documents."""
    before = accounts.store.version()
    creds = accounts.add("hel", "pilot", city="Helsinki")
    with pytest.raises(KBError):
        accounts.login("hel", "guess")
    accounts.disable("hel")
    accounts.reset("hel")
    assert creds and accounts.store.version() == before


def test_an_account_keeps_the_interface_language_it_chose(accounts):
    creds = accounts.add("hel", "pilot", city="Helsinki")
    user = accounts.login("hel", creds.password)
    assert user.language is None
    assert accounts.set_language(user, "sv").language == "sv"
    session, token = accounts.start_session(user), creds.token
    assert accounts.session(session).language == "sv" and accounts.by_token(token).language == "sv"
    assert accounts.by_id(user.id).language == "sv" and accounts.get("hel").language == "sv"
    assert accounts.set_language("hel", None).language is None and accounts.session(session).language is None


@pytest.mark.parametrize("language", ["xx", "EN", "", "sv-SE", "Svenska"])
def test_an_interface_language_not_offered_is_refused_naming_those_offered(accounts, language):
    from kb.messages import LOCALES
    from kb.errors import Invalid

    accounts.add("hel", "pilot", city="Helsinki")
    with pytest.raises(Invalid, match="not a language of the interface; choose one of en, sv") as refused:
        accounts.set_language("hel", language)
    assert all(code in str(refused.value) for code in LOCALES)
    assert accounts.get("hel").language is None
