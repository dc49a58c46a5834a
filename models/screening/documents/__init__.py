"""Turn an uploaded CV file into plain text, or into an error an HR person can act on.

HR staff upload whatever they have: PDFs, Word files, plain text in any common encoding, or a
ZIP with a whole batch.  Everything here is hostile input as far as the code is concerned, so:

* the file type is decided from the bytes, never from the extension (people rename files);
* every failure becomes a :class:`DocumentError` with a stable ``code`` (for the bot's logic)
  and a one-sentence ``message`` (for the human); bad input never raises;
* a bad file inside a ZIP only fails that file, the rest of the batch is still read;
* ZIPs are read in memory with bounded reads and shared budgets, so a ZIP bomb or a
  ``../../evil`` member can neither fill the disk/RAM nor write anywhere.

PDF text comes from pdfium (~15x faster than pypdf here).  On the PDFs the CV classifier was
trained on, pdfium drops the real space glyphs (they are separate zero-width text objects) and
glues words together, so we re-insert spaces from per-character boxes; see
``pdf._insert_missing_spaces``.  The result matches pypdf's words (what the classifier was
trained on) while staying close to pdfium's speed.

Only text a reader can see is kept (``visibility``): white, invisible, off-page, tiny or
covered text is dropped and counted in ``ParsedDocument.hidden_text_chars``, with a
``DocumentWarning`` the verdict can show.  Work is bounded per file and per upload: PDF
streams are inflated in a throw-away pass first (``pdfscan``), pages and characters are
capped, and a CV keeps at most ``DocumentLimits.max_text_chars`` characters.
"""

from models.screening.documents.archive import zip_member_count
from models.screening.documents.reader import (
    extract_pdf_text_pdfium,
    extract_pdf_text_pypdf,
    read_document_bytes,
    read_document_file,
)
from models.screening.documents.results import (
    ERROR_CODES,
    DocumentError,
    DocumentLimits,
    DocumentResult,
    DocumentWarning,
    ParsedDocument,
)

__all__ = [
    "ERROR_CODES",
    "DocumentError",
    "DocumentLimits",
    "DocumentResult",
    "DocumentWarning",
    "ParsedDocument",
    "extract_pdf_text_pdfium",
    "extract_pdf_text_pypdf",
    "read_document_bytes",
    "read_document_file",
    "zip_member_count",
]
