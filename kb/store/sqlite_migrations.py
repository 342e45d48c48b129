"""Numbered schema migrations of the SQLite store; each runs once, in order, in a transaction."""

from __future__ import annotations

import sqlite3
from collections import Counter

from kb.documents import passage_language, words
from kb.store.fts import FTS_RANK, FTS_TABLE, fts_rows


M001_INITIAL = f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            kind TEXT NOT NULL,
            city TEXT,
            country TEXT,
            domains TEXT NOT NULL DEFAULT '[]',
            levers TEXT NOT NULL DEFAULT '[]',
            module TEXT,
            language TEXT NOT NULL DEFAULT 'en',
            date TEXT,
            source TEXT,
            sample INTEGER NOT NULL DEFAULT 0,
            body TEXT NOT NULL,
            path TEXT,
            content_hash TEXT NOT NULL,
            model_id TEXT NOT NULL,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        CREATE INDEX documents_city ON documents(city);
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            section TEXT,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            model_id TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE INDEX chunks_doc ON chunks(doc_id);
        CREATE INDEX chunks_hash ON chunks(content_hash, model_id);
        {FTS_TABLE}
        CREATE TABLE cities (
            city TEXT PRIMARY KEY,
            country TEXT NOT NULL,
            role TEXT NOT NULL,
            cohort INTEGER,
            population INTEGER,
            lat REAL,
            lon REAL,
            pilot_project TEXT,
            domains TEXT NOT NULL DEFAULT '[]'
        );
"""

M002_ACCOUNTS_NOTES = """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            city TEXT,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        CREATE TABLE login_failures (username TEXT NOT NULL COLLATE NOCASE, at REAL NOT NULL);
        CREATE INDEX login_failures_user ON login_failures(username, at);
        CREATE TABLE notes (
            id TEXT PRIMARY KEY,
            city TEXT NOT NULL,
            country TEXT NOT NULL,
            fields TEXT NOT NULL,
            version INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            author_id INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        CREATE TABLE note_versions (
            note_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            action TEXT NOT NULL,
            fields TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (note_id, version)
        );
        -- Passages deleted since an index was built: other processes catch up from this log.
        CREATE TABLE deleted_chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id INTEGER NOT NULL);
"""

M003_FTS_RANK = FTS_RANK


def m004_words(db: sqlite3.Connection) -> None:
    """Every word of the documents with its count: the vocabulary spelling suggestions draw on
    (FTS5's own vocabulary holds Porter stems, not words people type)."""
    db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID")
    counts = Counter()
    for (text,) in db.execute("SELECT title FROM documents UNION ALL SELECT text FROM chunks"):
        counts.update(words(text))
    db.executemany("INSERT INTO words VALUES (?, ?)", counts.items())


# Each entry is one migration, SQL or a function of the connection; its position (from 1) is the
# schema version it brings.
M005_CITY_SOURCE = """
        ALTER TABLE cities ADD COLUMN source TEXT;
"""

# Twin-pilot pairings the matching team records.
M006_PAIRINGS = """
        CREATE TABLE pairings (
            twin TEXT NOT NULL,
            pilot TEXT NOT NULL,
            added_by INTEGER REFERENCES users(id),
            added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (twin, pilot)
        );
"""

# A twin's workspace: the practices it keeps, its replication plan with versions, and comments.
M007_WORKSPACE = """
        CREATE TABLE shortlist (
            twin TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'considering',
            note TEXT NOT NULL DEFAULT '',
            added_by INTEGER REFERENCES users(id),
            added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (twin, doc_id)
        );
        CREATE TABLE plans (
            twin TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            sections TEXT NOT NULL,
            shared INTEGER NOT NULL DEFAULT 0,
            final INTEGER NOT NULL DEFAULT 0,
            adopted TEXT NOT NULL DEFAULT '[]',
            updated_by INTEGER REFERENCES users(id),
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        CREATE TABLE plan_versions (
            twin TEXT NOT NULL,
            version INTEGER NOT NULL,
            sections TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (twin, version)
        );
        CREATE TABLE plan_comments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            twin TEXT NOT NULL,
            section TEXT NOT NULL,
            text TEXT NOT NULL,
            author_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            resolved_by INTEGER REFERENCES users(id),
            resolved_at TEXT
        );
"""

# Failed logins are counted per (account, client address); sessions live on the server, so that
# logging out, a reset or disabling an account ends them.
M008_SESSIONS = """
    ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
    CREATE INDEX login_failures_client ON login_failures(client, at);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        expires_at REAL NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
"""

# The originals a document was extracted from (a PDF, a note's attachments), kept in the data folder.
M009_FILES = """
    ALTER TABLE documents ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
"""

# The twin cities a document concerns: an exact search filter.
M010_TWINS = """
    ALTER TABLE documents ADD COLUMN twins TEXT NOT NULL DEFAULT '[]';
"""

# The original files themselves, for a store shared by app servers (kb/store/base.py `Store.shared`);
# the same table here, so that every backend passes the same contract.
M011_FILE_DATA = """
    CREATE TABLE files (ref TEXT PRIMARY KEY, data BLOB NOT NULL);
"""

# People working together: each account's inbox, its e-mail digest, and the meetings of a pairing.
M012_TOGETHER = """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        link TEXT NOT NULL,
        actor_id INTEGER REFERENCES users(id),
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        read_at TEXT
    );
    CREATE INDEX events_user ON events(user_id, id);
    CREATE TABLE digests (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        email TEXT NOT NULL,
        frequency TEXT NOT NULL,
        sent_at TEXT,
        last_event BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE meetings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        twin TEXT NOT NULL,
        pilot TEXT NOT NULL,
        kind TEXT NOT NULL,
        date TEXT NOT NULL,
        module TEXT NOT NULL,
        participants TEXT NOT NULL,
        record TEXT NOT NULL,
        files TEXT NOT NULL DEFAULT '[]',
        author_id INTEGER REFERENCES users(id),
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE INDEX meetings_pair ON meetings(twin, pilot);
"""

# What the programme learns from itself (kb/insights/): the search log (never who searched), the
# vectors of its texts, when each account last logged in, and when a kept practice took its status.
M013_INSIGHTS = """
    CREATE TABLE searches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        language TEXT,
        filters TEXT NOT NULL DEFAULT '{}',
        mode TEXT NOT NULL,
        results INTEGER NOT NULL,
        weak INTEGER NOT NULL,
        role TEXT NOT NULL,
        source TEXT NOT NULL,
        clicked INTEGER,
        kept INTEGER NOT NULL DEFAULT 0,
        visit TEXT
    );
    CREATE INDEX searches_at ON searches(at);
    CREATE INDEX searches_text ON searches(text_hash);
    CREATE INDEX searches_visit ON searches(visit) WHERE visit IS NOT NULL;
    CREATE TABLE search_vectors (
        text_hash TEXT NOT NULL,
        model_id TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (text_hash, model_id)
    );
    CREATE TABLE logins (user_id INTEGER PRIMARY KEY REFERENCES users(id), at TEXT NOT NULL);
    ALTER TABLE shortlist ADD COLUMN status_at TEXT;
"""

def m014_analysed_keywords(db: sqlite3.Connection) -> None:
    """The keyword index made again of each passage's words as its language's Snowball stemmer
    reads them (kb/documents/analysis.py), in place of FTS5's English Porter stemmer for all."""
    db.execute("DROP TABLE chunks_fts")
    db.execute(FTS_TABLE)
    db.execute(FTS_RANK)
    # as schema 14 holds them: a passage's language was its document's (or the summary's English)
    passages = db.execute("SELECT c.id, d.title, c.section, c.text, d.language FROM chunks c "
                          "JOIN documents d ON d.id = c.doc_id").fetchall()
    db.executemany("INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)",
                   fts_rows((*p, passage_language(p[4], p[2])) for p in passages))


def m015_languages(db: sqlite3.Connection) -> None:
    """Each passage's own language (an attached file's page, a plan's section may be written in
    another than its document), filled for the passages stored so far by the rule they were
    analysed by: their document's, English in its English summary (the keyword index holds them
    so already). And each account's interface language, none chosen yet."""
    db.execute("ALTER TABLE chunks ADD COLUMN language TEXT NOT NULL DEFAULT 'en'")
    rows = db.execute("SELECT c.id, c.section, d.language FROM chunks c JOIN documents d ON d.id = c.doc_id")
    db.executemany("UPDATE chunks SET language = ? WHERE id = ?",
                   [(passage_language(language, section) or "en", i) for i, section, language in rows.fetchall()])
    db.execute("CREATE INDEX chunks_language ON chunks(language, doc_id)")
    db.execute("ALTER TABLE users ADD COLUMN language TEXT")


MIGRATIONS = [M001_INITIAL, M002_ACCOUNTS_NOTES, M003_FTS_RANK, m004_words, M005_CITY_SOURCE, M006_PAIRINGS,
              M007_WORKSPACE, M008_SESSIONS, M009_FILES, M010_TWINS, M011_FILE_DATA,
              M012_TOGETHER, M013_INSIGHTS, m014_analysed_keywords, m015_languages]


def migrate(db: sqlite3.Connection) -> None:
    """Bring the schema up to date; `PRAGMA user_version` records how many migrations ran."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"the store's schema version {current} is newer than this program knows "
            f"({len(MIGRATIONS)}): upgrade twin-cities-kb"
        )
    for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        try:
            if callable(migration):
                db.execute("BEGIN IMMEDIATE")
                migration(db)
                db.execute(f"PRAGMA user_version = {number}")
                db.execute("COMMIT")
            else:
                db.executescript(f"BEGIN IMMEDIATE;\n{migration}\nPRAGMA user_version = {number};\nCOMMIT;")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
