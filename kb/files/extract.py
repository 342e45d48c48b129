"""The text of uploaded files: PDF, Word (.docx), PowerPoint (.pptx) and web pages, split by page, slide or
heading so a search result can say where its passage stands. A file that cannot enter the knowledge base is
refused with BadFile, whose message names the file, says why in plain words, and what to do instead."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

import docx
import pptx
import pypdf
from pptx.shapes.group import GroupShape
from pypdf.errors import DependencyError

from kb.errors import Invalid
from kb.messages import N_, Message


@dataclass(frozen=True)
class FileType:
    name: str  # as results and the type of an Extracted say it
    article: str  # as a refusal says it: "report.pdf is not a PDF"
    media_type: str  # as the kept original is served


_HTML = FileType("web page", N_("a web page"), "text/html")
FILE_TYPES = {
    ".pdf": FileType("PDF", N_("a PDF"), "application/pdf"),
    ".docx": FileType("Word document", N_("a Word document"),
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pptx": FileType("PowerPoint slides", N_("a PowerPoint file"),
                      "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ".html": _HTML, ".htm": _HTML,
}
MB = 1024 * 1024  # sizes are told in the MB a file manager shows; the caller's KB_MAX_FILE_MB counts these
MAX_UNZIPPED = 500 * MB  # a .docx or .pptx that unpacks to more is a ZIP bomb, not a document
# The markup a .docx or .pptx may unpack to (its XML parts; pictures aside). Parsing costs about 70
# bytes of memory and 1 s per 1 MB of it: a 300-page report's is 2 to 6 MB; a bomb's document.xml
# of 20 MB packs into 67 KB and cost 28 s and 1.4 GB.
MAX_MARKUP = 8 * MB
MAX_MARKUP_RATIO = 100  # an XML part of more than 1 MB that packs this much tighter is repetition, not text
# The page content a PDF may inflate to, all pages together (a page that shares a stream counts it
# again): reading its text costs 2 to 4 s per MB here. A 300-page report of text holds 1 to 3 MB; a
# 15.9 KB file whose page inflates to 5 MB cost 17 to 26 s, ten pages sharing one 1 MB stream 26 s.
MAX_PDF_CONTENT = 4 * MB

_ZIP_PART = {".docx": "word/document.xml", ".pptx": "ppt/presentation.xml"}  # the part each format must hold
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"  # repeats mc:Choice
_MARKUP = re.compile(r"<(!doctype\s+html|html|head|body|title|meta|p|div|h[1-6]|article|section|main|span|a|"
                     r"ul|ol|li|table|br)\b", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
# \r, \v (python-pptx's line break) and \f are line ends; other controls and lone surrogates (a broken PDF
# font map) are noise that would break storing the text
_LINE_ENDS = str.maketrans({"\r": "\n", "\v": "\n", "\f": "\n"})
_NOISE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"[^\S\n\t]+")
_HYPHEN_BREAK = re.compile(r"([^\W\d_])[-\u00ad\u2010]\n([^\W\d_])")  # hyphen-minus, soft, U+2010
_HEADING_LIKE = re.compile(r"^( {0,3})(#|=+[ \t]*$|-+[ \t]*$)", re.MULTILINE)  # ATX heading or setext underline


class BadFile(Invalid):
    """A file that cannot enter the knowledge base; the message says which file and why, in plain words."""


@dataclass(frozen=True)
class Section:
    label: str  # "Page 3", "Slide 2", or an HTML heading text
    page: int | None  # the page or slide number, None for HTML
    text: str


@dataclass(frozen=True)
class Extracted:
    file_type: str  # the name of one of FILE_TYPES
    title: str | None  # the document's own title, if it has one
    sections: list[Section]


def extract(data: bytes, name: str, *, max_bytes: int, max_pages: int) -> Extracted:
    """The text of file `name` (its extension decides the type), or BadFile."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in FILE_TYPES:
        raise BadFile(Message("%(name)s: the knowledge base cannot read %(suffix)s files; upload a PDF (.pdf), Word "
                              "document (.docx), PowerPoint slides (.pptx) or web page (.html, .htm).",
                              name=name, suffix=suffix) if suffix else
                      Message("%(name)s: the knowledge base cannot read files without an extension; upload a PDF "
                              "(.pdf), Word document (.docx), PowerPoint slides (.pptx) or web page (.html, .htm).",
                              name=name))
    if not data:
        raise _empty(name)
    if len(data) > max_bytes:
        size = -(-len(data) * 10 // MB) / 10  # tenths rounded up: a file just over the limit never shows it
        raise BadFile(Message("%(name)s is %(size)s MB; the limit is %(max)s MB. Split it into smaller files.",
                              name=name, size=format(size, ".1f"), max=_mb(max_bytes)))
    if suffix == ".pdf":
        return _pdf(data, name, max_pages)
    if suffix in _ZIP_PART:
        _check_zip(data, name, suffix)
        return _docx(data, name, max_pages) if suffix == ".docx" else _pptx(data, name, max_pages)
    return _html(data, name)


def as_markdown(extracted: Extracted) -> str:
    """One '## <label>' section per page/slide/heading, with page text lines that start with '#' escaped
    (prefix a backslash) so they never become headings; empty pages are left out."""
    parts = [f"## {' '.join(s.label.split())}\n\n{_escape_headings(s.text.strip())}"
             for s in extracted.sections if s.text.strip()]
    return "\n\n".join(parts) + "\n" if parts else ""


def _escape_headings(text: str) -> str:
    return _HEADING_LIKE.sub(r"\1\\\2", text)


# --- refusals and checks shared by the formats ---

def _mb(n: int) -> str:
    return f"{n / MB:.1f}".removesuffix(".0")


def _empty(name: str) -> BadFile:
    return BadFile(Message("%(name)s holds no text; choose a file with text in it.", name=name))


def _mismatch(data: bytes, name: str, suffix: str) -> BadFile:
    actual = _looks_like(data)
    values = {"name": name, "type": Message(FILE_TYPES[suffix].article), "actual": Message(actual)}
    if actual.startswith("an old"):
        return BadFile(Message("%(name)s is not %(type)s (its content looks like %(actual)s); open it in Word or "
                               "PowerPoint and save it as .docx or .pptx.", **values))
    return BadFile(Message("%(name)s is not %(type)s (its content looks like %(actual)s); check that it is the file "
                           "you meant, or give it the extension of what it holds.", **values))


def _looks_like(data: bytes) -> str:
    """What the bytes are, told by their first bytes (the 'magic' every format starts with)."""
    if b"%PDF-" in data[:1024]:
        return N_("a PDF")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except Exception:
            return N_("a damaged ZIP archive")
        for part, kind in (("word/document.xml", N_("a Word document")),
                           ("ppt/presentation.xml", N_("a PowerPoint file")),
                           ("xl/workbook.xml", N_("an Excel workbook")), ("content.xml", N_("an OpenDocument file"))):
            if part in names:
                return kind
        return N_("a ZIP archive")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return N_("an old Office file (.doc, .ppt or .xls)")
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return N_("an image")
    if b"\x00" in data[:8192]:
        return N_("binary data")
    return N_("a web page") if _MARKUP.search(data[:65536].decode("latin-1")) else N_("plain text")


def _check_zip(data: bytes, name: str, suffix: str) -> None:
    """A .docx or .pptx is a ZIP archive holding its main part; anything else is some other file."""
    if not data.startswith(b"PK\x03\x04"):
        raise _mismatch(data, name, suffix)
    with _reading(name):
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    if _ZIP_PART[suffix] not in {e.filename for e in entries}:
        raise _mismatch(data, name, suffix)
    markup = [e for e in entries if e.filename.endswith((".xml", ".rels"))]
    packed_tight = any(e.file_size > MB and e.file_size > MAX_MARKUP_RATIO * max(e.compress_size, 1) for e in markup)
    if (sum(e.file_size for e in entries) > MAX_UNZIPPED or sum(e.file_size for e in markup) > MAX_MARKUP
            or packed_tight):
        raise BadFile(Message("%(name)s unpacks to far more than its text could need (at most %(max)s MB of markup, "
                              "each part packed at most %(ratio)s times); save a fresh copy from Word or PowerPoint "
                              "and try again.", name=name, max=_mb(MAX_MARKUP), ratio=MAX_MARKUP_RATIO))


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """A library's failure to parse the file becomes BadFile; our own refusals and the interpreter's pass through
    (KeyboardInterrupt and SystemExit are no Exception; MemoryError is, but is no fault of the file)."""
    try:
        yield
    except (BadFile, MemoryError):
        raise
    except DependencyError as exc:  # AES needs the `cryptography` package, which is not installed
        raise BadFile(Message("%(name)s is encrypted in a way the knowledge base cannot open; save an unprotected "
                              "copy (for example with 'Print to PDF') and upload that.", name=name)) from exc
    except Exception as exc:
        raise BadFile(Message("%(name)s is damaged and cannot be read; open it in its program, save a fresh copy "
                              "and upload that.", name=name)) from exc


def _too_many(name: str, count: int, unit: str, max_pages: int) -> BadFile:
    if unit == "slides":
        return BadFile(Message("%(name)s has %(n)s slides; the limit is %(max)s. Split it into smaller files.",
                               name=name, n=count, max=max_pages))
    return BadFile(Message("%(name)s has %(n)s pages; the limit is %(max)s. Split it into smaller files.",
                           name=name, n=count, max=max_pages))


def _clean(text: str, *, join_hyphens: bool = False) -> str:
    """Single spaces, no control characters, trimmed lines, at most one blank line between paragraphs."""
    text = _NOISE.sub("", text.replace("\r\n", "\n").translate(_LINE_ENDS))
    text = "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    if join_hyphens:  # 'Wärme-' + 'pumpen' at a PDF line end; 'Nord-' + 'Süd' keeps its hyphen
        text = _HYPHEN_BREAK.sub(lambda m: m[1] + m[2] if m[2].islower() else m[0], text)
    text = text.replace("\u00ad", "")  # soft hyphens are invisible
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _one_line(text: str | None) -> str | None:
    """A title on one line, or None when there is none."""
    return " ".join(_clean(text or "").split()) or None


# --- the formats ---

def _pdf(data: bytes, name: str, max_pages: int) -> Extracted:
    if b"%PDF-" not in data[:1024]:  # readers accept a little junk before the header, so we do too
        raise _mismatch(data, name, ".pdf")
    with _reading(name):
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):  # an empty password opens 'no copying' files
            raise BadFile(Message("%(name)s is password-protected; save an unprotected copy (without a password) "
                                  "and upload that.", name=name))
        if len(reader.pages) > max_pages:
            raise _too_many(name, len(reader.pages), "pages", max_pages)
        _check_pdf_content(reader, name)
        texts = [_clean(page.extract_text(), join_hyphens=True) for page in reader.pages]
        if not any(texts):
            if any(len(page.images) for page in reader.pages):
                raise BadFile(Message("%(name)s has no text layer (is it a scan?); run text recognition (OCR) on "
                                      "it first, then upload the result.", name=name))
            raise _empty(name)
    try:
        title = _one_line(reader.metadata.title if reader.metadata else None)
    except Exception:  # a broken info dictionary costs the title, not the file
        title = None
    return Extracted("PDF", title, [Section(f"Page {n}", n, text) for n, text in enumerate(texts, 1)])


def _check_pdf_content(reader: pypdf.PdfReader, name: str) -> None:
    """Refuse a PDF whose pages inflate past MAX_PDF_CONTENT before any of it is read as text: each page's
    content and the forms it draws, counted at each use as reading the text reads them (pypdf inflates no
    one stream past 75 MB)."""
    inflated = 0

    def add(size: int) -> None:
        nonlocal inflated
        inflated += size
        if inflated > MAX_PDF_CONTENT:
            raise BadFile(Message("%(name)s inflates to more than %(max)s MB of page content, far more than its "
                                  "text could need; print it to a new PDF and try again, or split it.",
                                  name=name, max=_mb(MAX_PDF_CONTENT)))

    def forms(resources, depth: int) -> None:
        xobjects = resources.get("/XObject") if resources is not None else None
        for ref in (xobjects.get_object().values() if xobjects is not None else ()):
            form = ref.get_object()
            if depth < 10 and form.get("/Subtype") == "/Form":
                add(len(form.get_data()))
                forms(form.get("/Resources"), depth + 1)

    for page in reader.pages:
        contents = page.get_contents()
        add(len(contents.get_data()) if contents is not None else 0)
        forms(page.get("/Resources"), 0)


def _docx(data: bytes, name: str, max_pages: int) -> Extracted:
    with _reading(name):
        document = docx.Document(io.BytesIO(data))
        pages = [_clean(page) for page in _docx_pages(document.element.body)]
        title = _one_line(document.core_properties.title)
    if len(pages) > max_pages:
        raise _too_many(name, len(pages), "pages", max_pages)
    if not any(pages):
        raise _empty(name)
    return Extracted("Word document", title, [Section(f"Page {n}", n, text) for n, text in enumerate(pages, 1)])


def _docx_pages(body) -> list[str]:
    """The body's text in document order (tables, text boxes and tracked insertions included), cut into pages
    at explicit page breaks and where Word last laid out a new page."""
    pages: list[list[str]] = [[]]

    def walk(element) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag == _FALLBACK:  # comments; the old-Word copy of a text box
                continue
            if tag == _W + "t":
                pages[-1].append(child.text or "")
            elif tag == _W + "tab":
                pages[-1].append("\t")
            elif tag == _W + "noBreakHyphen":
                pages[-1].append("-")
            elif tag in (_W + "br", _W + "cr"):
                if child.get(_W + "type") == "page":
                    pages.append([])
                else:
                    pages[-1].append("\n")
            elif tag == _W + "lastRenderedPageBreak":
                if "".join(pages[-1]).strip():  # on a page still empty it marks the break just taken
                    pages.append([])
            else:
                walk(child)
                if tag in (_W + "p", _W + "tr"):
                    pages[-1].append("\n")

    walk(body)
    return ["".join(page) for page in pages]


def _pptx(data: bytes, name: str, max_pages: int) -> Extracted:
    with _reading(name):
        slides = pptx.Presentation(io.BytesIO(data)).slides
        if len(slides) > max_pages:
            raise _too_many(name, len(slides), "slides", max_pages)
        texts = [_clean(_slide_text(slide)) for slide in slides]
        title_shape = slides[0].shapes.title if len(slides) else None
        title = _one_line(title_shape.text_frame.text) if title_shape is not None else None
    if not any(texts):
        raise _empty(name)
    return Extracted("PowerPoint slides", title, [Section(f"Slide {n}", n, t) for n, t in enumerate(texts, 1)])


def _slide_text(slide) -> str:
    parts = list(_shape_texts(slide.shapes))
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            parts.append("Notes: " + notes.text)
    return "\n\n".join(parts)


def _shape_texts(shapes) -> Iterator[str]:
    """Texts top to bottom, then left to right: the order of the shapes in the file is their stacking order."""
    for shape in sorted(shapes, key=lambda s: (s.top or 0, s.left or 0)):
        if isinstance(shape, GroupShape):
            yield from _shape_texts(shape.shapes)
        elif shape.has_text_frame:
            yield shape.text_frame.text
        elif shape.has_table:
            yield "\n".join("\t".join(cell.text for cell in row.cells) for row in shape.table.rows)


def _html(data: bytes, name: str) -> Extracted:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, the one text encoding full of NUL bytes
        text = data.decode("utf-16", "replace")
    elif b"\x00" in data:
        raise _mismatch(data, name, ".html")
    else:
        text = _decode(data)
    if not text.strip():
        raise _empty(name)
    if not _MARKUP.search(text[:65536]):
        raise _mismatch(data, name, ".html")
    with _reading(name):
        parser = _PageText()
        parser.feed(text)
        parser.close()
    title = _one_line("".join(parser.title))
    sections = [Section(label or title or "Page", None, _clean("".join(parts))) for label, parts in parser.sections]
    if not any(s.text for s in sections):
        raise _empty(name)
    return Extracted("web page", title, sections)


def _decode(data: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 (they rarely are by chance), else the page's declared charset,
    else Windows-1252, which browsers use for pages labelled Latin-1."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared[1].decode("ascii"), "replace")
        except LookupError:  # a charset Python does not know
            pass
    return data.decode("cp1252", "replace")


class _PageText(HTMLParser):
    """A page's title and its text cut at h1–h3, without scripts, styles and the site's navigation."""

    SKIP = {"script", "style", "noscript", "template", "svg", "nav", "header", "footer"}
    PARAGRAPH = {"p", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre", "figure", "hr", "section",
                 "article", "main", "form"}
    LINE = {"br", "li", "tr", "div", "dt", "dd", "figcaption", "caption"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.sections: list[tuple[str | None, list[str]]] = [(None, [])]  # None: before the first heading
        self._skip = 0  # depth inside skipped elements
        self._content = 0  # depth inside article/main, where a header holds the article's own heading
        self._heading: list[str] | None = None
        self._in_title = self._title_seen = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("article", "main"):
            self._content += 1
        if tag in self.SKIP and (self._skip or not (tag in ("header", "footer") and self._content)):
            self._skip += 1
        elif tag == "title" and not self._title_seen and not self._skip:
            self._in_title = True
        elif tag in ("h1", "h2", "h3") and not self._skip:
            self._heading = []
        elif tag == "pre":
            self._pre += 1
        self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("article", "main"):
            self._content = max(0, self._content - 1)
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        elif tag == "title" and self._in_title:
            self._in_title, self._title_seen = False, True
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            label = " ".join("".join(self._heading).split())
            self._heading = None
            if label:  # an empty heading starts no section
                self.sections.append((label, []))
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif self._skip:
            return
        elif self._heading is not None:
            self._heading.append(data)
        else:  # outside <pre>, HTML whitespace is a single space, and line breaks come from the tags
            self.sections[-1][1].append(data if self._pre else re.sub(r"\s+", " ", data))

    def _break(self, tag: str) -> None:
        if not self._skip and self._heading is None:
            if tag in self.PARAGRAPH:
                self.sections[-1][1].append("\n\n")
            elif tag in self.LINE:
                self.sections[-1][1].append("\n")
            elif tag in ("td", "th"):
                self.sections[-1][1].append("\t")
