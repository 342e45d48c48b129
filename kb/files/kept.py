"""The originals of indexed files (a corpus PDF, a note's attachment), kept in the data folder by
content hash so that a result can link to the file at its page and the file stays downloadable
whatever happens to the corpus folder or the uploader's disk."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePath

from kb.errors import NotFound
from kb.files.extract import FILE_TYPES
from kb.messages import Message
from kb.store import Store

_REF = re.compile(r"^[0-9a-f]{64}/[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_PAGE = re.compile(r"^(?:(?P<name>.+), )?(?:page|slide) (?P<number>\d{1,5})$", re.IGNORECASE)


def safe_name(name: str) -> str:
    """A file name that is safe in a path and a URL: 'Rapport été 2024.pdf' -> 'Rapport-t-2024.pdf'."""
    path = PurePath(name.replace("\\", "/")).name
    stem, suffix = _UNSAFE.sub("-", PurePath(path).stem).strip("-._") or "file", PurePath(path).suffix.lower()
    return f"{stem[:100]}{_UNSAFE.sub('', suffix)[:15]}"


def reference(name: str, data: bytes) -> str:
    """How a document names a kept file: its content hash and a safe form of its name."""
    return f"{hashlib.sha256(data).hexdigest()}/{safe_name(name)}"


def file_at(files: tuple[str, ...], section: str | None) -> tuple[str | None, int | None]:
    """The kept file and page a passage comes from, by its section ("Page 3", or "report.pdf,
    page 3" in a note with attachments); (None, None) when it comes from no file."""
    match = _PAGE.match(section or "")
    if not files or match is None:
        return None, None
    name = match.group("name")
    if name is None:
        return (files[0], int(match.group("number"))) if len(files) == 1 else (None, None)
    ref = next((f for f in files if f.rsplit("/", 1)[1] == safe_name(name)), None)
    return (ref, int(match.group("number"))) if ref else (None, None)


class FileStore:
    """Files in a folder by reference. Over a store that app servers share, each file is kept in
    the store too, and the folder is then this server's cache of them."""

    def __init__(self, root: Path, store: Store | None = None):
        self.root = Path(root)
        self.store = store if store is not None and store.shared else None

    def has(self, ref: str) -> bool:
        """Whether `ref` names a kept file (a name that could not be one is not)."""
        try:
            path = self._path(ref)
        except NotFound:
            return False
        if not path.is_file() and self.store is not None and (data := self.store.file(ref)) is not None:
            self._write(path, data)  # another server received it
        return path.is_file()

    def keep(self, ref: str, data: bytes) -> None:
        """Keep a file once (its name holds its hash)."""
        path = self._path(ref)
        if self.store is not None:
            with self.store.write(documents=False) as tx:
                tx.keep_file(ref, data)
        if not path.exists():
            self._write(path, data)

    def in_folder(self) -> Iterator[tuple[str, bytes]]:
        """(reference, content) of every file kept in the folder."""
        for path in sorted(self.root.glob("*/*")):
            if _REF.match(ref := f"{path.parent.name}/{path.name}"):
                yield ref, path.read_bytes()

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Atomic, so a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, ref: str) -> tuple[Path, str]:
        """The kept file's path and media type, or NotFound."""
        path = self._path(ref)
        if not self.has(ref):
            raise NotFound(Message("no file %(file)s is kept; it may belong to a document since removed",
                                   file=repr(ref.rsplit("/", 1)[-1])))
        return path, FILE_TYPES[path.suffix.lower()].media_type  # _path admits no other suffix

    def _path(self, ref: str) -> Path:
        if not isinstance(ref, str) or not _REF.match(ref) or PurePath(ref).suffix.lower() not in FILE_TYPES:
            raise NotFound(Message("%(file)s is not the name of a kept file", file=repr(str(ref)[:80])))
        return self.root / ref
