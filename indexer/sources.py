"""Corpus sources: Markdown with YAML front matter, JSON Lines (BEIR accepted), PDF, Word,
PowerPoint and HTML files each with a YAML sidecar (NAME.meta.yaml), and cities.csv."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb.documents import CITY_ROLES, DOMAINS, Practice, ValidationErrors, validate
from kb.files import FILE_TYPES, BadFile, as_markdown, extract, reference
from kb.store import City

CITIES_FILE = "cities.csv"
SIDECAR = ".meta.yaml"  # report.pdf.meta.yaml (or report.meta.yaml): the file's front matter
DEFAULT_MAX_BYTES, DEFAULT_MAX_PAGES = 20 * 1024 * 1024, 300  # KB_MAX_FILE_MB, KB_MAX_PAGES
CITY_COLUMNS = ("city", "country", "role", "cohort", "population", "lat", "lon", "pilot_project", "domains", "source")
OPTIONAL_CITY_COLUMNS = ("source",)  # where population and coordinates come from (kb cities fill)
# Folders of a corpus that hold no documents: evaluation data, hidden folders.
SKIPPED_DIRS = {"eval"}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?", re.S | re.M)


@dataclass(frozen=True)
class LoadError:
    """One problem in the corpus, printed as `file:line: field: what is wrong`."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class Corpus:
    practices: list[Practice] = field(default_factory=list)
    cities: list[City] | None = None  # None when the corpus has no cities.csv
    errors: list[LoadError] = field(default_factory=list)
    failed_paths: set[str] = field(default_factory=set)
    originals: dict[str, Path] = field(default_factory=dict)  # a kept file's reference -> where it is read

    def fail(self, path: str, line: int | None, field_name: str | None, message: str) -> None:
        self.errors.append(LoadError(path, line, field_name, message))
        self.failed_paths.add(path)


def read_corpus(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_pages: int = DEFAULT_MAX_PAGES) -> Corpus:
    """Every valid document under `path` (a folder or a .jsonl file), and every problem found.
    A file (PDF, Word, ...) larger than `max_bytes` or longer than `max_pages` is refused."""
    corpus = Corpus()
    path = Path(path)
    if path.is_file():
        root = path.parent.resolve()
        files = [path]
    elif path.is_dir():
        root = path.resolve()
        files = sorted(
            p for p in path.rglob("*")
            if (p.suffix in (".md", ".jsonl") or p.suffix.lower() in FILE_TYPES)
            and not any(part in SKIPPED_DIRS or part.startswith(".") for part in p.relative_to(path).parts[:-1])
        )
    else:
        corpus.fail(str(path), None, None, "no such file or folder")
        return corpus

    seen: dict[str, str] = {}
    for file in files:
        rel = file.relative_to(path).as_posix() if path.is_dir() else file.name
        if file.suffix.lower() in FILE_TYPES:
            parsed = _file(file, root, rel, corpus, max_bytes, max_pages)
        elif (text := _read_text(file, root, rel, corpus)) is not None:
            parsed = _markdown(text, rel, corpus) if file.suffix == ".md" else _jsonl(text, rel, corpus)
        else:
            continue
        for practice, line in parsed:
            if practice.id in seen:
                corpus.fail(rel, line, "id", f"duplicate id {practice.id!r}, already used in {seen[practice.id]}")
                continue
            seen[practice.id] = f"{rel}:{line}"
            corpus.practices.append(practice)

    cities_path = path / CITIES_FILE if path.is_dir() else None
    if cities_path is not None and cities_path.exists():
        text = _read_text(cities_path, root, CITIES_FILE, corpus)
        corpus.cities = _cities(text, corpus) if text is not None else []
    return corpus


def _read_bytes(file: Path, root: Path, rel: str, corpus: Corpus) -> bytes | None:
    """The file's content, unless it points outside the corpus or cannot be read (recorded)."""
    resolved = file.resolve()
    if not resolved.is_relative_to(root):
        corpus.fail(rel, None, None, f"points outside the corpus (to {resolved}); not read")
        return None
    try:
        return resolved.read_bytes()
    except OSError as exc:
        corpus.fail(rel, None, None, f"cannot be read: {exc.strerror}")
        return None


def _read_text(file: Path, root: Path, rel: str, corpus: Corpus) -> str | None:
    data = _read_bytes(file, root, rel, corpus)
    if data is None:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        corpus.fail(rel, line, None, f"is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8")
        return None
    if not text.strip():
        corpus.fail(rel, None, None, "is empty")
        return None
    return text


def _file(file: Path, root: Path, rel: str, corpus: Corpus, max_bytes: int,
          max_pages: int) -> list[tuple[Practice, int]]:
    """A PDF, Word, PowerPoint or HTML file and its sidecar: one document, one section per page."""
    sidecar = next((s for s in (file.with_name(file.name + SIDECAR), file.with_name(file.stem + SIDECAR))
                    if s.exists()), None)
    if sidecar is None:
        corpus.fail(rel, None, None, f"has no sidecar: write {file.name}{SIDECAR} beside it with its title, kind, "
                                     "city, country, domains ... (the fields of a Markdown file's front matter)")
        return []
    sidecar_rel = sidecar.relative_to(root).as_posix() if sidecar.resolve().is_relative_to(root) else sidecar.name
    text = _read_text(sidecar, root, sidecar_rel, corpus)
    fields = _front_matter(text, sidecar_rel, corpus, 1, "sidecar") if text is not None else None
    if fields is None:
        corpus.failed_paths.add(rel)
        return []
    data = _read_bytes(file, root, rel, corpus)
    if data is None:
        return []
    try:
        extracted = extract(data, file.name, max_bytes=max_bytes, max_pages=max_pages)
    except BadFile as exc:
        corpus.fail(rel, None, None, str(exc))
        return []
    fields.setdefault("title", extracted.title or file.stem.replace("_", " ").replace("-", " "))
    ref = reference(file.name, data)
    try:
        practice = validate(fields, as_markdown(extracted), default_id=rel, path=rel, files=(ref,))
    except ValidationErrors as exc:
        for error in exc.errors:
            where = (rel, None) if error.field == "text" else (sidecar_rel, _field_line(text, error.field, 1))
            corpus.fail(*where, error.field, error.message)
        corpus.failed_paths.add(rel)
        return []
    corpus.originals[ref] = file.resolve()
    return [(practice, 1)]


def _front_matter(text: str, rel: str, corpus: Corpus, first_line: int, what: str) -> dict | None:
    """YAML fields (`what`: front matter, a sidecar) starting at `first_line` of the file, or None
    with the problem recorded at its line."""
    try:
        fields = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + first_line if mark else 1
        corpus.fail(rel, line, None, f"{what} is not valid YAML: {getattr(exc, 'problem', exc)}")
        return None
    if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
        corpus.fail(rel, first_line, None, f"{what} must be a mapping of field: value")
        return None
    return fields


def _field_line(front_matter: str, name: str, first_line: int = 2) -> int | None:
    """Line (1-based, in the file) where `name:` is set in the front matter."""
    for number, line in enumerate(front_matter.splitlines(), start=first_line):
        if re.match(rf"^{re.escape(name)}\s*:", line):
            return number
    return None


def _markdown(text: str, rel: str, corpus: Corpus) -> list[tuple[Practice, int]]:
    match = _FRONT_MATTER.match(text)
    if not match:
        corpus.fail(rel, 1, None, "has no front matter: start the file with '---', the fields, then '---'")
        return []
    front, body = match.group(1), text[match.end():]
    body_line = front.count("\n") + 3
    fields = _front_matter(front, rel, corpus, 2, "front matter")
    if fields is None:
        return []
    default_id = rel[: -len(".md")]
    try:
        return [(validate(fields, body, default_id=default_id, path=rel), 1)]
    except ValidationErrors as exc:
        for error in exc.errors:
            line = body_line if error.field == "text" else _field_line(front, error.field) or 1
            corpus.fail(rel, line, error.field, error.message)
        return []


def _jsonl(text: str, rel: str, corpus: Corpus) -> list[tuple[Practice, int]]:
    parsed = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            corpus.fail(rel, number, None, f"is not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            corpus.fail(rel, number, None, "must be a JSON object, one document per line")
            continue
        record.pop("metadata", None)  # BEIR's per-document metadata is not part of our format
        if "_id" in record:
            record.setdefault("id", record.pop("_id"))
        record.setdefault("kind", "portal_resource")
        body = record.pop("text", "")
        try:
            parsed.append((validate(record, body, path=rel), number))
        except ValidationErrors as exc:
            for error in exc.errors:
                corpus.fail(rel, number, error.field, error.message)
    return parsed


def _number(row: dict, name: str, kind: type, line: int, corpus: Corpus, low=None, high=None):
    value = (row.get(name) or "").strip()
    if not value:
        return None
    try:
        number = kind(value)
    except ValueError:
        corpus.fail(CITIES_FILE, line, name, f"{value!r} is not a {'whole ' if kind is int else ''}number")
        raise
    if (low is not None and number < low) or (high is not None and number > high):
        corpus.fail(CITIES_FILE, line, name, f"{value} is outside {low}..{high}")
        raise ValueError(name)
    return number


def _cities(text: str, corpus: Corpus) -> list[City]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CITY_COLUMNS if c not in (reader.fieldnames or []) and c not in OPTIONAL_CITY_COLUMNS]
    if missing:
        corpus.fail(CITIES_FILE, 1, None, f"missing columns: {', '.join(missing)}; expected {','.join(CITY_COLUMNS)}")
        return []
    cities: dict[str, City] = {}
    for row in reader:
        line = reader.line_num
        name, country, role = ((row.get(c) or "").strip() for c in ("city", "country", "role"))
        problems = [(c, "is required") for c, v in (("city", name), ("country", country)) if not v]
        if role not in CITY_ROLES:
            problems.append(("role", f"{role!r} is not one of {', '.join(CITY_ROLES)}"))
        domains = tuple(d.strip() for d in (row.get("domains") or "").split(";") if d.strip())
        problems += [("domains", f"unknown domain {d!r}; expected one of {', '.join(DOMAINS)}")
                     for d in domains if d not in DOMAINS]
        if name in cities:
            problems.append(("city", f"{name!r} is listed twice"))
        for column, message in problems:
            corpus.fail(CITIES_FILE, line, column, message)
        try:
            cohort = _number(row, "cohort", int, line, corpus, 1, 99)
            population = _number(row, "population", int, line, corpus, 1, 100_000_000)
            lat = _number(row, "lat", float, line, corpus, -90, 90)
            lon = _number(row, "lon", float, line, corpus, -180, 180)
        except ValueError:
            continue
        if not problems:
            project = (row.get("pilot_project") or "").strip() or None
            source = (row.get("source") or "").strip() or None
            cities[name] = City(name, country, role, cohort, population, lat, lon, project, domains, source)
    return list(cities.values())
