"""Backups (kb/store/backup.py): taken from either store while it is written to, checked whole
before a restore writes anything, restored into either store with every table as it was."""

import hashlib
import json
import shutil
import sqlite3
import threading
import time
from contextlib import closing

import pytest

from kb.errors import Invalid
from kb.files import FileStore
from kb.store import NoteRecord, PlanRecord
from kb.store.backup import (DATA_FILE, MANIFEST_FILE, PARTIAL, BadBackup, backup, backups, keep_newest, read_backup,
                             restore)
from kb.store.rows import TABLES, checksum
from kb.store.sqlite import SqliteStore
from tests.kb.store.test_contract import doc, put

FILES = [("0" * 64 + "/report.pdf", b"%PDF-1.4 a report")]


def filled(store):
    put(store, doc("a", domains=["energy"]), doc("b", body="## C\nbiogas buses"))
    with store.write(documents=False) as tx:
        ann = tx.add_user("ann", "Kozani", "twin")
        tx.save_plan(PlanRecord("Kozani", 1, {"why": "heat"}, True, False, (), ""), ann)
        tx.save_note(NoteRecord("n1", "Umeå", "Sweden", {"title": "Heat"}, 1, False), ann)
    return store


def into_folder(tmp_path):
    folder = FileStore(tmp_path / "restored-files")
    return folder.keep, folder.in_folder


@pytest.mark.parametrize("into", ["sqlite", "postgresql"])
def test_a_backup_restores_every_table_as_it_was(store, into, tmp_path, request):
    filled(store)
    made = backup(store, FILES, tmp_path / "backups")
    assert made.path.name.startswith("kb-backup-") and backups(tmp_path / "backups") == [made.path]
    assert made.manifest["tables"]["documents"]["rows"] == 2 and made.manifest["tables"]["files"]["rows"] == 1
    if into == "sqlite":
        target = SqliteStore(tmp_path / "restored" / "kb.sqlite3")
    else:
        from kb.store.postgres import PostgresStore
        target = PostgresStore(request.getfixturevalue("pg_cluster").new_database(), tmp_path / "restored")
    try:
        restore(made.path, target, *into_folder(tmp_path))
        for table in TABLES:
            if table != "files":
                assert checksum(target.table_rows(table)) == checksum(store.table_rows(table)), table
        assert target.keyword_passages(["biogas"], 5) == store.keyword_passages(["biogas"], 5)
        assert target.plan("Kozani") == store.plan("Kozani") and target.note("n1") == store.note("n1")
        kept = list(target.table_rows("files")) if target.shared else list(into_folder(tmp_path)[1]())
        assert [(ref, bytes(data)) for ref, data in kept] == FILES
        with pytest.raises(Invalid, match="not empty"):
            restore(made.path, target, *into_folder(tmp_path))
    finally:
        target.close()


def test_a_backup_is_one_state_while_writes_go_on(store, tmp_path):
    """Notes are written, one per transaction with its version row, during the backup: the
    backup holds every note committed before it began, and each note it holds whole."""
    filled(store)
    stop, written = threading.Event(), []

    def writer():
        i = 0
        while not stop.is_set():
            with store.write() as tx:
                tx.save_note(NoteRecord(f"w{i}", "Umeå", "Sweden", {"title": f"T{i}"}, 1, False), None)
                tx.record_note_version(f"w{i}", 1, "create", {"title": f"T{i}"}, None)
            written.append(f"w{i}")
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    while len(written) < 20:
        time.sleep(0.01)
    before = set(written)
    try:
        made = backup(store, [], tmp_path / "backups")
    finally:
        stop.set()
        thread.join()
    _, read = read_backup(made.path)
    notes = {row[0] for row in read("notes")}
    versions = {row[0] for row in read("note_versions")}
    assert before <= notes and notes == versions | {"n1"}  # none half-written


def _made(tmp_path):
    store = filled(SqliteStore(tmp_path / "kb.sqlite3"))
    try:
        return backup(store, FILES, tmp_path / "backups").path
    finally:
        store.close()


def _edit_manifest(path, change):
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    change(manifest)
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_a_truncated_backup_is_refused_naming_its_file(tmp_path):
    path = _made(tmp_path)
    data = (path / DATA_FILE).read_bytes()
    (path / DATA_FILE).write_bytes(data[:len(data) // 2])
    with pytest.raises(BadBackup, match="tables.sqlite3: missing, truncated or changed"):
        read_backup(path)


def test_an_edited_table_is_refused_naming_the_table(tmp_path):
    path = _made(tmp_path)
    with closing(sqlite3.connect(path / DATA_FILE)) as db:
        db.execute("UPDATE plans SET sections = '{\"why\": \"edited\"}'")
        db.commit()
    digest = hashlib.sha256((path / DATA_FILE).read_bytes()).hexdigest()
    _edit_manifest(path, lambda m: m["file"].update(sha256=digest))  # the file's hash matches; the table's not
    with pytest.raises(BadBackup, match="table 'plans' does not match the manifest"):
        read_backup(path)


@pytest.mark.parametrize("change, why", [
    (lambda m: m.update(kind="somebody else's backup"), "not a backup of this knowledge base"),
    (lambda m: m.update(format=99), "backup format 99"),
    (lambda m: m["tables"].pop("plans"), "lists no table 'plans'"),
    (lambda m: m["tables"]["users"].update(columns=["id", "name"]), "columns of another schema"),
])
def test_a_foreign_or_edited_manifest_is_refused_with_its_reason(tmp_path, change, why):
    path = _made(tmp_path)
    _edit_manifest(path, change)
    with pytest.raises(BadBackup, match=why):
        read_backup(path)


def test_a_folder_without_a_manifest_is_no_backup(tmp_path):
    path = _made(tmp_path)
    (path / MANIFEST_FILE).unlink()
    with pytest.raises(BadBackup, match="no manifest.json"):
        read_backup(path)
    with pytest.raises(BadBackup, match="not a backup manifest"):
        (path / MANIFEST_FILE).write_text("{not json")
        read_backup(path)


def test_a_backup_that_fails_midway_leaves_nothing_that_looks_whole(tmp_path, monkeypatch):
    from kb.store import backup as module

    store = filled(SqliteStore(tmp_path / "kb.sqlite3"))
    real, tables = module._write_table, []

    def full_disk(out, table, *args):
        tables.append(table)
        if len(tables) == 5:
            raise OSError(28, "No space left on device")
        return real(out, table, *args)

    monkeypatch.setattr(module, "_write_table", full_disk)
    with pytest.raises(OSError):
        backup(store, FILES, tmp_path / "backups")
    store.close()
    assert list((tmp_path / "backups").iterdir()) == [] and backups(tmp_path / "backups") == []


def test_keep_removes_the_oldest_whole_backups_only(tmp_path):
    store = filled(SqliteStore(tmp_path / "kb.sqlite3"))
    made = [backup(store, [], tmp_path / "backups").path for _ in range(3)]
    store.close()
    (tmp_path / "backups" / f"kb-backup-0{PARTIAL}").mkdir()  # a crashed one: never counted, never removed here
    assert keep_newest(tmp_path / "backups", 2) == made[:1]
    assert backups(tmp_path / "backups") == made[1:]
    shutil.rmtree(made[1])
    assert backups(tmp_path / "backups") == made[2:]


def _as_made_before_languages(path):
    """The backup as a version without passages' and accounts' languages would have made it."""
    with closing(sqlite3.connect(path / DATA_FILE)) as db:
        db.executescript("ALTER TABLE chunks DROP COLUMN language; ALTER TABLE users DROP COLUMN language;")
        tables = {t: [tuple(r) for r in db.execute(f"SELECT * FROM {t}")] for t in ("chunks", "users")}
    digest = hashlib.sha256((path / DATA_FILE).read_bytes()).hexdigest()

    def older(manifest):
        manifest["file"]["sha256"] = digest
        for table, rows in tables.items():
            manifest["tables"][table].update(columns=[c for c in TABLES[table] if c != "language"],
                                             checksum=checksum(rows))
    _edit_manifest(path, older)


def test_a_backup_made_before_passages_had_a_language_restores_with_its_documents(store, tmp_path):
    source = filled(SqliteStore(tmp_path / "source" / "kb.sqlite3"))
    put(source, doc("sv", "## Bakgrund\nFjärrvärme utan kol.\n\n## In English (summary by the author)\nNo coal.",
                    language="sv"))
    made = backup(source, FILES, tmp_path / "backups")
    _as_made_before_languages(made.path)
    restore(made.path, store, *into_folder(tmp_path))
    assert [(p.section, p.language) for p in store.passages_of("sv")] == [
        ("Bakgrund", "sv"), ("In English (summary by the author)", "en")]
    assert store.user("ann").language is None
    for table in ("chunks", "users", "documents"):
        assert checksum(store.table_rows(table)) == checksum(source.table_rows(table)), table
    assert store.keyword_passages(["kol"], 5) == source.keyword_passages(["kol"], 5) != []
    source.close()


def test_a_backup_lacking_a_column_not_added_since_is_refused(tmp_path):
    path = _made(tmp_path)
    _edit_manifest(path, lambda m: m["tables"]["chunks"].update(columns=[c for c in TABLES["chunks"] if c != "text"]))
    with pytest.raises(BadBackup, match="table 'chunks' has the columns of another schema"):
        read_backup(path)
