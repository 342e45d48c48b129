"""Files: the text of PDF, Word, PowerPoint and HTML files, a section per page, slide or heading,
and the refusal of a bad file before anything is written (extract); the originals kept by content
hash and the file and page a passage comes from (kept)."""

from kb.files.extract import FILE_TYPES, MB, BadFile, Extracted, Section, as_markdown, extract
from kb.files.kept import FileStore, file_at, reference

__all__ = ["BadFile", "Extracted", "FILE_TYPES", "FileStore", "MB", "Section", "as_markdown", "extract", "file_at",
           "reference"]
