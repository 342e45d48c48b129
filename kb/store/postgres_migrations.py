"""Numbered schema migrations of the PostgreSQL store, applied by `kb migrate` in one
transaction each. The tables and columns are the SQLite store's (kb/store/rows.py TABLES), in
PostgreSQL's types; keyword search has no table here: each app server derives its own."""

from __future__ import annotations

NOW = """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""

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
        files TEXT NOT NULL DEFAULT '[]',
        twins TEXT NOT NULL DEFAULT '[]',
        content_hash TEXT NOT NULL,
        model_id TEXT NOT NULL,
        updated_at TEXT NOT NULL DEFAULT {NOW}
    );
    CREATE INDEX documents_city ON documents (lower(city));
    CREATE TABLE chunks (
        id BIGSERIAL PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        section TEXT,
        text TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        model_id TEXT NOT NULL,
        vector BYTEA NOT NULL
    );
    CREATE INDEX chunks_doc ON chunks (doc_id);
    CREATE INDEX chunks_hash ON chunks (content_hash, model_id);
    -- Passages deleted since an index was built: app servers catch up from this log.
    CREATE TABLE deleted_chunks (seq BIGSERIAL PRIMARY KEY, chunk_id BIGINT NOT NULL);
    CREATE TABLE words (word TEXT PRIMARY KEY, count INTEGER NOT NULL);
    CREATE TABLE cities (
        city TEXT PRIMARY KEY,
        country TEXT NOT NULL,
        role TEXT NOT NULL,
        cohort INTEGER,
        population BIGINT,
        lat DOUBLE PRECISION,
        lon DOUBLE PRECISION,
        pilot_project TEXT,
        domains TEXT NOT NULL DEFAULT '[]',
        source TEXT
    );
    CREATE TABLE users (
        id BIGSERIAL PRIMARY KEY,
        username TEXT NOT NULL,
        city TEXT,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL DEFAULT {NOW}
    );
    CREATE UNIQUE INDEX users_username ON users (lower(username));
    CREATE TABLE login_failures (username TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, client TEXT NOT NULL DEFAULT '');
    CREATE INDEX login_failures_user ON login_failures (lower(username), at);
    CREATE INDEX login_failures_client ON login_failures (client, at);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id),
        expires_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE TABLE notes (
        id TEXT PRIMARY KEY,
        city TEXT NOT NULL,
        country TEXT NOT NULL,
        fields TEXT NOT NULL,
        version INTEGER NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        author_id BIGINT REFERENCES users(id),
        created_at TEXT NOT NULL DEFAULT {NOW},
        updated_at TEXT NOT NULL DEFAULT {NOW}
    );
    CREATE TABLE note_versions (
        note_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        action TEXT NOT NULL,
        fields TEXT NOT NULL,
        user_id BIGINT REFERENCES users(id),
        at TEXT NOT NULL DEFAULT {NOW},
        PRIMARY KEY (note_id, version)
    );
    CREATE TABLE pairings (
        twin TEXT NOT NULL,
        pilot TEXT NOT NULL,
        added_by BIGINT REFERENCES users(id),
        added_at TEXT NOT NULL DEFAULT {NOW},
        PRIMARY KEY (twin, pilot)
    );
    CREATE TABLE shortlist (
        twin TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'considering',
        note TEXT NOT NULL DEFAULT '',
        added_by BIGINT REFERENCES users(id),
        added_at TEXT NOT NULL DEFAULT {NOW},
        PRIMARY KEY (twin, doc_id)
    );
    CREATE TABLE plans (
        twin TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        sections TEXT NOT NULL,
        shared INTEGER NOT NULL DEFAULT 0,
        final INTEGER NOT NULL DEFAULT 0,
        adopted TEXT NOT NULL DEFAULT '[]',
        updated_by BIGINT REFERENCES users(id),
        updated_at TEXT NOT NULL DEFAULT {NOW}
    );
    CREATE TABLE plan_versions (
        twin TEXT NOT NULL,
        version INTEGER NOT NULL,
        sections TEXT NOT NULL,
        user_id BIGINT REFERENCES users(id),
        at TEXT NOT NULL DEFAULT {NOW},
        PRIMARY KEY (twin, version)
    );
    CREATE TABLE plan_comments (
        id BIGSERIAL PRIMARY KEY,
        twin TEXT NOT NULL,
        section TEXT NOT NULL,
        text TEXT NOT NULL,
        author_id BIGINT REFERENCES users(id),
        at TEXT NOT NULL DEFAULT {NOW},
        resolved_by BIGINT REFERENCES users(id),
        resolved_at TEXT
    );
"""

# The original files (attachments, indexed PDFs), which every app server must be able to serve.
M002_FILES = """
    CREATE TABLE files (ref TEXT PRIMARY KEY, data BYTEA NOT NULL);
"""

# People working together: each account's inbox, its e-mail digest, and the meetings of a pairing.
M003_TOGETHER = f"""
    CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        link TEXT NOT NULL,
        actor_id BIGINT REFERENCES users(id),
        at TEXT NOT NULL DEFAULT {NOW},
        read_at TEXT
    );
    CREATE INDEX events_user ON events(user_id, id);
    CREATE TABLE digests (
        user_id BIGINT PRIMARY KEY REFERENCES users(id),
        email TEXT NOT NULL,
        frequency TEXT NOT NULL,
        sent_at TEXT,
        last_event BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE meetings (
        id BIGSERIAL PRIMARY KEY,
        twin TEXT NOT NULL,
        pilot TEXT NOT NULL,
        kind TEXT NOT NULL,
        date TEXT NOT NULL,
        module TEXT NOT NULL,
        participants TEXT NOT NULL,
        record TEXT NOT NULL,
        files TEXT NOT NULL DEFAULT '[]',
        author_id BIGINT REFERENCES users(id),
        at TEXT NOT NULL DEFAULT {NOW}
    );
    CREATE INDEX meetings_pair ON meetings(twin, pilot);
"""

# What the programme learns from itself (kb/insights/): the search log (never who searched), the
# vectors of its texts, when each account last logged in, and when a kept practice took its status.
M004_INSIGHTS = """
    CREATE TABLE searches (
        id BIGSERIAL PRIMARY KEY,
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
        vector BYTEA NOT NULL,
        PRIMARY KEY (text_hash, model_id)
    );
    CREATE TABLE logins (user_id BIGINT PRIMARY KEY REFERENCES users(id), at TEXT NOT NULL);
    ALTER TABLE shortlist ADD COLUMN status_at TEXT;
"""

# Each passage's own language (an attached file's page, a plan's section may be written in another
# than its document), filled for the passages stored so far by the rule they were analysed by: their
# document's, English in its English summary (kb/documents/analysis.py passage_language). And each
# account's interface language, none chosen yet.
M005_LANGUAGES = r"""
    ALTER TABLE chunks ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
    UPDATE chunks c SET language = CASE
        WHEN c.section ~ '^In English \((summary by the knowledge base team|summary by the author)\)\s*$' THEN 'en'
        ELSE d.language END
        FROM documents d WHERE d.id = c.doc_id;
    ALTER TABLE users ADD COLUMN language TEXT;
"""

# Each entry is one migration; its position (from 1) is the schema version it brings, kept in
# the table schema_version.
MIGRATIONS = [M001_INITIAL, M002_FILES, M003_TOGETHER, M004_INSIGHTS, M005_LANGUAGES]
