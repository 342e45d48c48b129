"""Text out of real PDF, Word, PowerPoint and HTML files made here, and each kind of bad file refused in words."""

from __future__ import annotations

import base64
import io

import docx
import pptx
import pypdf
import pytest
import weasyprint
from docx.oxml import OxmlElement
from PIL import Image

from kb.errors import Invalid
from kb.files import FILE_TYPES, MB, BadFile, Extracted, Section, as_markdown, extract
from tests.bombs import inflating_docx, inflating_pdf

LIMITS = {"max_bytes": 10 * MB, "max_pages": 50}
PHRASE = "Zebra quartz phrase"


def pdf_of(html: str) -> bytes:
    return weasyprint.HTML(string=html).write_pdf()


@pytest.fixture(scope="module")
def two_page_pdf() -> bytes:
    return pdf_of("<title>Heat pumps in Umeå</title><p>Große Wärmepumpen in Łódź, café été.</p>"
                  f"<p style='page-break-before: always'>{PHRASE} on the second page.</p>")


def docx_bytes(build) -> bytes:
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def section(extracted: Extracted, label: str) -> Section:
    return next(s for s in extracted.sections if s.label == label)


def refusal(data: bytes, name: str, **limits) -> str:
    with pytest.raises(BadFile) as exc:
        extract(data, name, **(LIMITS | limits))
    assert isinstance(exc.value, Invalid) and name in str(exc.value)
    return str(exc.value)


def test_a_pdf_is_split_by_page_and_keeps_accents(two_page_pdf):
    got = extract(two_page_pdf, "report.pdf", **LIMITS)
    assert (got.file_type, got.title, [s.label for s in got.sections]) == ("PDF", "Heat pumps in Umeå",
                                                                          ["Page 1", "Page 2"])
    assert "Große Wärmepumpen in Łódź, café été." in section(got, "Page 1").text
    assert PHRASE in section(got, "Page 2").text and section(got, "Page 2").page == 2
    assert PHRASE not in section(got, "Page 1").text


def test_a_word_document_is_split_at_page_breaks_and_keeps_tables():
    def build(document):
        document.core_properties.title = "District heating"
        document.add_paragraph("The first page.")
        document.add_page_break()
        document.add_paragraph(PHRASE)
        document.add_table(rows=1, cols=2).rows[0].cells[1].text = "Cell text"

    got = extract(docx_bytes(build), "plan.docx", **LIMITS)
    assert (got.file_type, got.title, [s.label for s in got.sections]) == ("Word document", "District heating",
                                                                          ["Page 1", "Page 2"])
    assert section(got, "Page 1").text == "The first page."
    assert PHRASE in section(got, "Page 2").text and "Cell text" in section(got, "Page 2").text


def test_slides_are_split_by_slide_with_their_notes():
    deck = pptx.Presentation()
    for title, body in (("Cycle highways", "Winter maintenance"), ("Results", PHRASE)):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text, slide.placeholders[1].text = title, body
    slide.notes_slide.notes_text_frame.text = "Say the numbers slowly"
    out = io.BytesIO()
    deck.save(out)
    got = extract(out.getvalue(), "talk.pptx", **LIMITS)
    assert (got.file_type, got.title, [s.label for s in got.sections]) == ("PowerPoint slides", "Cycle highways",
                                                                          ["Slide 1", "Slide 2"])
    assert section(got, "Slide 2").text == f"Results\n\n{PHRASE}\n\nNotes: Say the numbers slowly"


def test_a_web_page_is_split_at_headings_without_scripts_or_navigation():
    page = ("<html><head><title>Tram plans</title><script>var hidden = 'script text';</script></head><body>"
            "<nav>Home | About</nav><p>Intro  text\n across lines.</p><h2>Köln</h2><p>Straßenbahn &amp; more.</p>"
            "<h2>Next <em>steps</em></h2><p>One.</p><p>Two.</p><footer>Copyright</footer></body></html>")
    got = extract(page.encode(), "page.html", **LIMITS)
    assert (got.file_type, got.title) == ("web page", "Tram plans")
    assert [(s.label, s.page, s.text) for s in got.sections] == [
        ("Tram plans", None, "Intro text across lines."), ("Köln", None, "Straßenbahn & more."),
        ("Next steps", None, "One.\n\nTwo.")]
    assert not any(word in as_markdown(got) for word in ("script text", "Home", "Copyright"))


def test_a_latin_1_web_page_is_read():
    got = extract("<meta charset='iso-8859-1'><p>Gärten für alle</p>".encode("latin-1"), "old.htm", **LIMITS)
    assert got.sections[0].text == "Gärten für alle"


def test_web_page_whitespace_is_collapsed_and_control_characters_dropped():
    got = extract(b"<p>a \x01b\t\tc\xc2\xa0\xc2\xa0d</p><p></p><p></p><p>e</p>", "x.html", **LIMITS)
    assert got.sections[0].text == "a b c d\n\ne"


def test_word_text_keeps_tabs_but_not_runs_of_spaces():
    got = extract(docx_bytes(lambda d: d.add_paragraph("  Wärme   pumpen\tnow  ")), "x.docx", **LIMITS)
    assert got.sections[0].text == "Wärme pumpen\tnow"


def test_words_hyphenated_at_pdf_line_ends_are_joined():
    got = extract(pdf_of("<p lang='de' style='width: 2.5cm; hyphens: auto'>Die Fernwärmeversorgung braucht "
                         "Wärmepumpenanlagen entlang der Nord-Süd-Achse.</p>"), "narrow.pdf", **LIMITS)
    text = got.sections[0].text
    assert "Fernwärmeversorgung" in text and "Wärmepumpenanlagen" in text and "Nord-Süd-\nAchse" in text


def test_word_marks_a_page_it_laid_out_after_a_break_only_once():
    def build(document):
        document.add_paragraph("One")
        document.add_page_break()
        document.add_paragraph("Two").runs[0]._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
        document.add_paragraph("Still two")
        document.add_paragraph("Three").runs[0]._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))

    got = extract(docx_bytes(build), "laid-out.docx", **LIMITS)
    assert [(s.label, s.text) for s in got.sections] == [("Page 1", "One"), ("Page 2", "Two\nStill two"),
                                                         ("Page 3", "Three")]


def test_markdown_has_a_heading_per_page_and_escapes_lines_that_would_be_headings():
    extracted = Extracted("PDF", None, [Section("Page 1", 1, "# not a heading\nText"), Section("Page 2", 2, ""),
                                        Section("Page 3", 3, "Underlined\n---")])
    assert as_markdown(extracted) == "## Page 1\n\n\\# not a heading\nText\n\n## Page 3\n\nUnderlined\n\\---\n"


def test_an_unknown_extension_lists_the_accepted_types():
    message = refusal(b"MZ\x90\x00", "setup.exe")
    assert ".exe" in message and all(suffix in message for suffix in FILE_TYPES)


def test_an_oversized_file_gives_its_size_and_the_limit(two_page_pdf):
    message = refusal(two_page_pdf.ljust(int(12.3 * MB)), "big.pdf", max_bytes=10 * MB)
    assert "is 12.3 MB; the limit is 10 MB" in message


@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.html"])
def test_an_empty_file_holds_no_text(name):
    assert "holds no text" in refusal(b"", name)


def test_a_pdf_with_a_blank_page_holds_no_text():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    assert "holds no text" in refusal(out.getvalue(), "blank.pdf")


def test_an_image_only_pdf_needs_text_recognition():
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(png, "PNG")
    scan = pdf_of(f"<img src='data:image/png;base64,{base64.b64encode(png.getvalue()).decode()}'>")
    message = refusal(scan, "scan.pdf")
    assert "no text layer" in message and "OCR" in message


def test_a_password_protected_pdf_is_refused(two_page_pdf):
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(two_page_pdf))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    assert "password-protected" in refusal(out.getvalue(), "locked.pdf")


def test_a_pdf_locked_only_against_editing_is_read(two_page_pdf):
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(two_page_pdf))
    writer.encrypt(user_password="", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    assert PHRASE in extract(out.getvalue(), "restricted.pdf", **LIMITS).sections[1].text


def test_a_truncated_pdf_is_damaged(two_page_pdf):
    assert "is damaged and cannot be read" in refusal(two_page_pdf[: len(two_page_pdf) // 2], "cut.pdf")


def test_a_truncated_word_document_is_damaged():
    data = docx_bytes(lambda d: d.add_paragraph("Text"))
    assert "is damaged and cannot be read" in refusal(data[: len(data) // 2], "cut.docx")


def test_too_many_pages_gives_the_count_and_the_limit(two_page_pdf):
    assert "has 2 pages; the limit is 1" in refusal(two_page_pdf, "long.pdf", max_pages=1)


def test_a_pdf_holding_a_word_document_says_what_it_looks_like():
    message = refusal(docx_bytes(lambda d: d.add_paragraph("Text")), "renamed.pdf")
    assert "is not a PDF (its content looks like a Word document)" in message


def test_a_word_document_holding_plain_text_says_what_it_looks_like():
    assert "is not a Word document (its content looks like plain text)" in refusal(b"Just text.", "notes.docx")


def test_a_web_page_holding_binary_data_is_refused():
    assert "is not a web page (its content looks like an image)" in refusal(b"\x89PNG\r\n\x1a\n\x00\x00", "x.html")


@pytest.mark.parametrize("make, why", [
    (lambda: inflating_pdf(5), "inflates to more than 4 MB of page content"),  # 16 KB on disk
    (lambda: inflating_pdf(1, pages=10, shared=True), "inflates to more than 4 MB of page content"),  # 5 KB
])
def test_a_pdf_that_inflates_is_refused_before_its_text_is_read(make, why):
    """Probe 2, finding 3: 17-26 s of CPU for 15.9 KB, 25.8 s for 5 KB."""
    data = make()
    assert len(data) < 20_000
    assert why in refusal(data, "bomb.pdf")


def test_a_pdf_of_ordinary_size_is_still_read():
    extracted = extract(inflating_pdf(0.5, pages=3), "long.pdf", max_bytes=10 * MB, max_pages=300)
    assert len(extracted.sections) == 3 and extracted.sections[2].text.startswith("zz")


@pytest.mark.parametrize("document_mb", [20, 50])
def test_a_word_document_whose_markup_inflates_is_refused_before_it_is_parsed(document_mb):
    """Probe 2, finding 5: 20 / 50 MB of document.xml in 67 / 113 KB: 28 s and +1.4 GB."""
    data = inflating_docx(document_mb)
    assert len(data) < 250_000
    assert "unpacks to far more than its text could need" in refusal(data, "bomb.docx")


def test_a_word_document_of_ordinary_size_is_still_read():
    extracted = extract(inflating_docx(0.5), "report.docx", max_bytes=10 * MB, max_pages=300)
    assert "heat heat" in extracted.sections[0].text
