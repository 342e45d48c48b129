"""Files that inflate: small on disk, large once unpacked, made here rather than shipped."""

from __future__ import annotations

import io
import zipfile

import docx
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

MB = 1024 * 1024
_SHOW = b"BT /F1 12 Tf 72 720 Td (zz) Tj ET\n"


def inflating_pdf(content_mb: float, pages: int = 1, shared: bool = False) -> bytes:
    """A PDF whose pages' content streams inflate to `content_mb` each (one stream for all pages
    when `shared`): 5 MB packs into 16 KB."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    content, stream = _SHOW * int(content_mb * MB / len(_SHOW)), None
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        if stream is None or not shared:
            plain = DecodedStreamObject()
            plain.set_data(content)
            stream = writer._add_object(plain.flate_encode(level=9))
        page[NameObject("/Contents")] = stream
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def inflating_docx(document_mb: float) -> bytes:
    """A Word document whose document.xml unpacks to `document_mb` (20 MB packs into 70 KB)."""
    made = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("A short report.")
    document.save(made)
    paragraph = b"<w:p><w:r><w:t>heat heat heat heat heat heat heat heat</w:t></w:r></w:p>"
    with zipfile.ZipFile(made) as original:
        xml = original.read("word/document.xml")
        cut = xml.index(b"<w:body>") + len(b"<w:body>")
        xml = xml[:cut] + paragraph * int(document_mb * MB / len(paragraph)) + xml[cut:]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
            for item in original.infolist():
                bomb.writestr(item.filename, xml if item.filename == "word/document.xml" else original.read(item))
    return out.getvalue()
