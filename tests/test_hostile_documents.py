"""Hostile CV files: hidden text, decompression bombs, huge texts, odd encodings, damaged
PDFs, hostile Word packages and ZIPs.  Every file is built here, in the test (nothing big is
committed); where a defect is about size, time and memory are measured too (memory in a
child process, since pdfium's allocations are invisible to tracemalloc)."""

from __future__ import annotations

import io
import json
import logging
import os
import random
import string
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from models.screening.documents import (
    DocumentError,
    DocumentLimits,
    ParsedDocument,
    read_document_bytes,
)
from tests import hostile_files as h

ROOT = Path(__file__).resolve().parents[1]
SOFTWARE_CV = h.SOFTWARE_CV
STUFFING = h.NURSING_STUFFING


# --------------------------------------------------------------------------- builders


_text_ops = h._text_ops


def _pdf(pages: list[bytes | str], *, resources: bytes = b"",
         extra: dict[int, bytes] | None = None, compress: bool = True) -> bytes:
    """A PDF written by hand: page i draws the content stream ``pages[i]``."""
    return h.pdf([p.decode("latin-1") if isinstance(p, bytes) else p for p in pages],
                 compress=compress, extra_objects=extra, page_resources=resources.decode())


_IMAGE = h.HIDING_OBJECTS[4]
HIDDEN = h.hiding_ops(STUFFING)


def _hidden_pdf(how: str) -> bytes:
    return h.hidden_text_pdf(how, hidden=STUFFING)


def _zip(members: list[tuple[str | zipfile.ZipInfo, bytes]],
         method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


def _docx(document_xml: bytes, extra: list[tuple[str, bytes]] = ()) -> bytes:
    """The three parts python-docx needs, plus ``extra``."""
    return _zip([
        ("[Content_Types].xml",
         b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
         b'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
         b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
         b'"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
         b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        ("_rels/.rels",
         b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
         b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
         b'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         b'Target="word/document.xml"/></Relationships>'),
        ("word/document.xml", document_xml),
        *extra,
    ])


_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _document_xml(lines: list[str], doctype: bytes = b"", first: bytes = b"") -> bytes:
    body = b"".join(b"<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % line.encode() for line in lines)
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + doctype + b"<w:document " + _W
            + b"><w:body>" + first + body + b"</w:body></w:document>")


def _one(results):
    assert len(results) == 1, results
    return results[0]


def _ok(results) -> ParsedDocument:
    doc = _one(results)
    assert isinstance(doc, ParsedDocument), doc
    return doc


def _code(result) -> str:
    return result.code if isinstance(result, DocumentError) else "ok"


def _measured_in_child(tmp_path: Path, data: bytes, name: str = "upload.bin") -> dict:
    """Read ``data`` in a fresh interpreter: its codes, warnings, seconds and peak RSS (MB)
    over the interpreter with the reader imported, plus the peak of the PDF child (stopped
    before measuring, so that its peak is counted)."""
    path = tmp_path / name
    path.write_bytes(data)
    script = (
        "import json, resource, sys, time\n"
        "from models.screening.documents import read_document_file, ParsedDocument\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter()\n"
        "results = read_document_file(sys.argv[1])\n"
        "seconds = time.perf_counter() - t\n"
        "from models.screening.documents import isolation\n"
        "isolation._stop_child()\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base\n"
        "peak += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'seconds': seconds, 'rss_mb': peak / 1024,\n"
        "  'codes': [getattr(r, 'code', 'ok') for r in results],\n"
        "  'chars': [len(r.text) for r in results if isinstance(r, ParsedDocument)],\n"
        "  'warnings': [[w.code for w in getattr(r, 'warnings', ())] for r in results]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, timeout=300, cwd=ROOT, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- 1. hidden text


@pytest.mark.parametrize("how", sorted(HIDDEN))
def test_hidden_text_is_left_out_and_reported(how):
    visible = _ok(read_document_bytes("cv.pdf", _pdf([_text_ops(SOFTWARE_CV)])))
    assert visible.hidden_text_chars == 0 and visible.warnings == ()
    doc = _ok(read_document_bytes("cv.pdf", _hidden_pdf(how)))
    assert "nursing" not in doc.text.lower()
    assert doc.text == visible.text
    assert doc.hidden_text_chars > 1000
    assert [w.code for w in doc.warnings] == ["hidden_text"]
    assert "hidden text was found and ignored" in doc.warnings[0].message.lower()


def test_hidden_text_does_not_change_the_nurse_score(screening_model):
    visible_pdf = _pdf([_text_ops(SOFTWARE_CV)])
    stuffed_pdf = _pdf([_text_ops(SOFTWARE_CV) + "\n" + _text_ops(STUFFING, y=400)])
    docs = [_ok(read_document_bytes("v.pdf", visible_pdf)),
            _ok(read_document_bytes("s.pdf", stuffed_pdf))]
    docs += [_ok(read_document_bytes(f"{how}.pdf", _hidden_pdf(how))) for how in sorted(HIDDEN)]
    role = screening_model.role_profile("Nurse")
    scores = [r["score"] for r in screening_model.screen_documents(docs, role)]
    visible_score, stuffed_score, hidden_scores = scores[0], scores[1], scores[2:]
    # the stuffing matters when it is visible (so the test can fail) ...
    assert stuffed_score > visible_score + 0.2, scores
    # ... and not at all when a reader cannot see it
    for how, score in zip(sorted(HIDDEN), hidden_scores, strict=True):
        assert abs(score - visible_score) < 1e-6, (how, scores)
    assert all(d.hidden_text_chars > 0 for d in docs[2:])
    assert docs[1].hidden_text_chars == 0


def test_visible_design_text_is_kept():
    """White text on a dark band, grey text, a background image drawn first: all visible."""
    header = ("q 0.1 0.2 0.4 rg 0 700 612 92 re f Q\n"
              + _text_ops("Jordan Lee Software Engineer Portfolio", y=750, colour="1 1 1 rg"))
    grey = _text_ops("References available on request from previous employers.", y=120,
                     colour="0.6 0.6 0.6 rg")
    background = "q 612 0 0 792 0 0 cm /Im1 Do Q\n"
    data = _pdf([background + header + "\n" + _text_ops(SOFTWARE_CV, y=680) + "\n" + grey],
                resources=b"/XObject << /Im1 4 0 R >>", extra={4: _IMAGE})
    doc = _ok(read_document_bytes("cv.pdf", data))
    assert "Portfolio" in doc.text and "References" in doc.text
    assert doc.hidden_text_chars == 0 and doc.warnings == ()


def test_a_form_covers_only_where_its_matrix_puts_it():
    """The form's white rectangle drawn at a tenth of its size sits in a corner; a line cut
    by a margin clip shows its lower half, so it is read; 30 % grey-alpha text reads."""
    small = _text_ops(STUFFING, y=400) + "\nq 0.1 0 0 0.1 0 0 cm /Cover Do Q"
    margin = "q 0 0 612 705 re W n\n" + _text_ops("Lead Engineer at Widget Labs", y=702) + "\nQ"
    faint = "/Light gs\n" + _text_ops("Portfolio on request", y=90)
    data = _pdf([_text_ops(SOFTWARE_CV, y=680) + "\n" + small + "\n" + margin + "\n" + faint],
                resources=b"/XObject << /Cover 5 0 R >> /ExtGState << /Light << /ca 0.3 >> >>",
                extra=h.HIDING_OBJECTS)
    doc = _ok(read_document_bytes("cv.pdf", data))
    assert doc.hidden_text_chars == 0, doc.hidden_text_chars
    assert "nursing" in doc.text and "Widget Labs" in doc.text and "Portfolio" in doc.text


def _form(content: str) -> bytes:
    data = content.encode("latin-1")
    return (b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font "
            b"<< /F1 3 0 R >> >> /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")


def test_a_form_paints_its_own_contents_in_order():
    """Inside one form, a dark band painted first and white text on it: all visible (a shape
    in a form covers only what was painted before it)."""
    band = ("q 0.1 0.2 0.4 rg 0 600 612 192 re f Q\n"
            + _text_ops(SOFTWARE_CV, y=760, colour="1 1 1 rg"))
    data = _pdf(["/Band Do"], resources=b"/XObject << /Band 5 0 R >>", extra={5: _form(band)})
    doc = _ok(read_document_bytes("cv.pdf", data))
    assert doc.hidden_text_chars == 0 and "PostgreSQL" in doc.text


def test_a_clip_inside_a_moved_form_is_read_in_page_space():
    """A form drawn 450 pt up whose text has a column clip: the words inside the column are
    read and the ones past its edge are not (the clip is in the form's space)."""
    line = _text_ops("Lead Engineer at Widget Labs and then words past the column edge far away",
                     y=100)
    inner = "q 0 0 200 250 re W n\n" + line + "\nQ"
    data = _pdf([_text_ops(SOFTWARE_CV, y=400) + "\nq 1 0 0 1 0 450 cm /Col Do Q"],
                resources=b"/XObject << /Col 5 0 R >>", extra={5: _form(inner)})
    doc = _ok(read_document_bytes("cv.pdf", data))
    assert "Lead Engineer" in doc.text and "far away" not in doc.text
    assert 0 < doc.hidden_text_chars < 60


@pytest.mark.parametrize("squash", ["1 Tz", "-4.8 Tc"])
def test_a_six_letter_word_squashed_is_hidden(squash):
    """The shortest run flagged (five steps) is a six-letter word stacked on itself."""
    ops = f"BT /F1 10 Tf {squash} 300 300 Td (Nurses) Tj ET"
    data = _pdf([_text_ops(SOFTWARE_CV) + "\n" + ops])
    doc = _ok(read_document_bytes("cv.pdf", data))
    assert doc.hidden_text_chars == 6 and "Nurses" not in doc.text


def test_text_drawn_right_to_left_is_not_squashed():
    """Right-to-left scripts are drawn glyph by glyph leftwards, each step backwards: spread
    over the line, that is reading order, not stacking."""
    glyphs = " ".join(f"({c}) 1200" for c in "stnemeriuqerdnasllikS")  # one object, leftwards
    data = _pdf([_text_ops(SOFTWARE_CV) + f"\nBT /F1 10 Tf 400 300 Td [{glyphs}] TJ ET"])
    doc = _ok(read_document_bytes("cv.pdf", data))
    assert doc.hidden_text_chars == 0, doc.hidden_text_chars


def test_real_cv_pdfs_have_no_hidden_text():
    """Every real CV PDF in ../shared and the fixtures: nothing is flagged (measured: 0 of
    105 files), so the rules above do not cut ordinary layouts."""
    paths = sorted((ROOT / "tests" / "fixtures").rglob("*.pdf"))
    shared = ROOT.parent / "shared" / "data" / "resume_docs"
    paths += sorted(shared.rglob("*.pdf")) if shared.is_dir() else []
    if os.environ.get("CI") and not shared.is_dir():
        pytest.fail("CI runs next to ../shared; its real CV PDFs are missing")
    flagged = {}
    for path in paths:
        for doc in read_document_bytes(path.name, path.read_bytes()):
            if isinstance(doc, ParsedDocument) and doc.hidden_text_chars:
                flagged[path.name] = doc.hidden_text_chars
    assert paths and not flagged, flagged


def test_ocr_layer_of_a_scan_is_still_read():
    """A scanned page (one big image) with an invisible OCR text layer is a real CV."""
    data = _pdf(["q 612 0 0 792 0 0 cm /Im1 Do Q\n" + _text_ops(SOFTWARE_CV, mode=3)],
                resources=b"/XObject << /Im1 4 0 R >>", extra={4: _IMAGE})
    doc = _ok(read_document_bytes("scan.pdf", data))
    assert "PostgreSQL" in doc.text and doc.hidden_text_chars == 0


def test_all_hidden_pdf_is_not_rescued_by_the_fallback():
    data = _pdf([_text_ops(SOFTWARE_CV + "\n" + STUFFING, colour="1 1 1 rg")])
    error = _one(read_document_bytes("cv.pdf", data))
    assert _code(error) == "too_few_words" and "hidden text was ignored" in error.message


# --------------------------------------------------------------------------- 2. PDF size


def test_pdf_decompression_bomb_is_refused_cheaply(tmp_path):
    data = h.pdf_bomb(1024)  # ~1 MB on disk, 1 GiB inflated
    assert len(data) < 4 * 1024 * 1024
    got = _measured_in_child(tmp_path, data, "bomb.pdf")
    assert got["codes"] == ["pdf_bomb"], got
    assert got["seconds"] < 3 and got["rss_mb"] < 200, got


@pytest.mark.parametrize("hide", ["chain", "reference"])
def test_pdf_bomb_the_pre_scan_cannot_see_is_stopped_by_the_memory_cap(tmp_path, hide):
    """Behind a filter chain or a filter by reference the raw scan cannot inflate the
    stream; pdfium would (7.9 GB for 1.5 GB inflated).  The capped child dies instead."""
    data = h.pdf_bomb(1500, hide=hide)
    got = _measured_in_child(tmp_path, data, "bomb.pdf")
    assert got["codes"] == ["pdf_bomb"], got
    limit_mb = DocumentLimits().pdf_memory_bytes / 2**20
    assert got["seconds"] < 20 and got["rss_mb"] < limit_mb + 150, got


def test_a_pdf_child_that_dies_or_overruns_is_replaced_for_the_next_file():
    """One cap throughout: a bomb kills the child, the next file gets a fresh one and its
    own answer; an overrun is killed the same way; an answer never goes to another file."""
    from models.screening.documents import isolation

    limits = DocumentLimits(pdf_memory_bytes=400 * 2**20)
    nurse, software = h.text_pdf(STUFFING), h.text_pdf(SOFTWARE_CV)
    assert "nursing" in _ok(read_document_bytes("a.pdf", nurse, limits)).text
    first = isolation._STATE["child"].process.pid
    bomb = _one(read_document_bytes("b.pdf", h.pdf_bomb(600, hide="chain"), limits))
    assert _code(bomb) == "pdf_bomb" and "child" not in isolation._STATE
    assert _ok(read_document_bytes("c.pdf", software, limits)).text.startswith("Jordan Lee")
    second = isolation._STATE["child"].process.pid
    assert second != first
    slow = DocumentLimits(pdf_memory_bytes=400 * 2**20, pdf_parse_seconds=1e-9)
    error = _one(read_document_bytes("d.pdf", nurse, slow))
    assert _code(error) == "pdf_bomb" and "took far longer" in error.message
    assert "child" not in isolation._STATE  # the overrun child was stopped, not reused
    doc = _ok(read_document_bytes("e.pdf", software, limits))
    assert doc.text.startswith("Jordan Lee") and "nursing" not in doc.text  # not d's answer
    assert isolation._STATE["child"].process.pid not in (first, second)


def test_a_pdf_child_that_cannot_start_leaves_pdfs_read_in_process(monkeypatch, caplog):
    from models.screening.documents import isolation

    isolation._stop_child()
    monkeypatch.setattr(isolation, "_CHILD_CODE", "raise SystemExit(3)")
    monkeypatch.setattr(isolation, "_last_failed_start", -1e9)  # restored after the test
    with caplog.at_level(logging.ERROR):
        for name in ("a.pdf", "b.pdf", "c.pdf"):  # one failed start, not one per file
            assert _ok(read_document_bytes(name, h.text_pdf(SOFTWARE_CV))).text.startswith(
                "Jordan Lee")
    assert caplog.text.count("could not start (exit code 3)") == 1, caplog.text


def test_a_child_answer_that_is_not_one_is_refused(monkeypatch):
    """A subverted child may send anything: garbage, another request's number, the right
    number with the wrong shape. The file is refused, the child replaced, the next read."""
    import itertools

    from models.screening.documents import isolation

    answers = [b"not json", b'{"id": 99, "ok": {}}', b"[1, 2]",
               b'{"id": 7, "ok": {"name": "x.pdf"}}', b'{"id": 7, "fail": [1, 2]}']
    for bad in answers:
        isolation._stop_child()
        child = isolation._child(DocumentLimits().pdf_memory_bytes)
        monkeypatch.setattr(isolation, "_NUMBERS", itertools.count(7))
        monkeypatch.setattr(child, "_receive", lambda deadline, bad=bad: bad)
        error = _one(read_document_bytes("x.pdf", h.text_pdf(SOFTWARE_CV)))
        assert _code(error) == "pdf_bomb", (bad, error)
        assert "child" not in isolation._STATE
        monkeypatch.undo()
    assert _ok(read_document_bytes("y.pdf", h.text_pdf(SOFTWARE_CV))).text.startswith("Jordan")


def test_a_child_frame_that_is_huge_or_stalls_is_not_waited_for():
    import socket
    import time as clock
    from multiprocessing.connection import Connection

    from models.screening.documents import isolation

    ours, theirs = socket.socketpair()
    child = object.__new__(isolation._Child)
    child.conn = Connection(ours.detach())
    theirs.sendall((2**31 - 1).to_bytes(4, "big"))
    with pytest.raises(OSError, match="announced"):
        child._receive(clock.monotonic() + 5)
    theirs.sendall((10).to_bytes(4, "big") + b"ab")  # then nothing
    started = clock.monotonic()
    with pytest.raises(isolation._Overran):
        child._receive(clock.monotonic() + 0.3)
    assert clock.monotonic() - started < 2
    theirs.close()
    child.conn.close()


def test_pdf_read_in_the_child_equals_the_read_in_process():
    from models.screening.documents.pdf import _read_pdf

    for path in sorted((ROOT / "tests" / "fixtures" / "cvs").glob("*.pdf"))[:6]:
        data = path.read_bytes()
        assert _ok(read_document_bytes(path.name, data)) == _read_pdf(
            path.name, data, DocumentLimits())


def test_pdf_just_under_the_stream_cap_stays_bounded(tmp_path):
    limits = DocumentLimits()
    rng = random.Random(7)
    lines, size = [b"BT /F1 8 Tf"], 0
    while size < limits.max_pdf_stream_bytes - 200:  # distinct text: pdfium keeps every char
        word = "".join(rng.choice(string.ascii_letters) for _ in range(60)).encode()
        lines.append(b"1 0 0 1 %d %d Tm (%s) Tj" % (rng.randrange(20, 300),
                                                   rng.randrange(20, 770), word))
        size += len(lines[-1]) + 1
    data = _pdf([b"\n".join([*lines, b"ET"])])
    got = _measured_in_child(tmp_path, data, "big.pdf")
    assert got["codes"] == ["ok"], got
    assert got["chars"][0] <= limits.max_text_chars
    assert "text_truncated" in got["warnings"][0]
    assert got["seconds"] < 10 and got["rss_mb"] < 400, got


def test_form_drawn_many_times_is_bounded(tmp_path):
    form = b"BT /F1 10 Tf 72 700 Td (nursing patient care) Tj ET"
    form_obj = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font "
                b"<< /F1 3 0 R >> >> /Length %d >>\nstream\n" % len(form) + form
                + b"\nendstream")
    data = _pdf([b"/Fm1 Do\n" * 60_000], resources=b"/XObject << /Fm1 5 0 R >>",
                extra={5: form_obj})
    got = _measured_in_child(tmp_path, data, "forms.pdf")
    assert got["codes"] == ["pdf_bomb"], got
    assert got["seconds"] < 5 and got["rss_mb"] < 300, got


def test_two_thousand_page_pdf_reads_only_the_first_pages():
    page = _text_ops("Page of a very long document with experience and skills listed. " * 3)
    data = _pdf([page] * 2000)
    start = time.perf_counter()
    doc = _ok(read_document_bytes("long.pdf", data))
    assert time.perf_counter() - start < 5
    warning = {w.code: w.message for w in doc.warnings}["pages_skipped"]
    assert "30 of this PDF's 2000 pages" in warning
    assert doc.text.count("Page of a very long") == 30 * 3


# --------------------------------------------------------------------------- 3. long texts


def test_huge_text_cv_is_truncated_and_says_so():
    line = (SOFTWARE_CV.replace("\n", " ") + "\n").encode()
    data = line * (5 * 1024 * 1024 // len(line))
    start = time.perf_counter()
    doc = _ok(read_document_bytes("cv.txt", data))
    assert time.perf_counter() - start < 3
    assert 90_000 < len(doc.text) <= DocumentLimits().max_text_chars
    assert [w.code for w in doc.warnings] == ["text_truncated"]


def test_zip_of_many_large_texts_is_bounded(tmp_path):
    line = (SOFTWARE_CV.replace("\n", " ") + "\n").encode()
    blob = line * (1024 * 1024 // len(line))
    data = _zip([(f"cv_{i:03d}.txt", blob) for i in range(150)])
    assert len(data) < 1024 * 1024  # a small upload
    got = _measured_in_child(tmp_path, data, "batch.zip")
    limits = DocumentLimits()
    assert len(got["codes"]) == 150
    assert max(got["chars"]) <= limits.max_text_chars
    assert sum(got["chars"]) <= limits.max_upload_chars + limits.max_text_chars
    assert "zip_too_much_text" in got["codes"] and got["codes"][0] == "ok"
    assert all(w == ["text_truncated"] for w, c in zip(got["warnings"], got["codes"],
                                                         strict=True) if c == "ok")
    assert got["seconds"] < 30 and got["rss_mb"] < 400, got


# --------------------------------------------------------------------------- 4. encodings


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(encoding):
    doc = _ok(read_document_bytes("cv.txt", SOFTWARE_CV.encode(encoding)))
    assert "PostgreSQL" in doc.text and "\x00" not in doc.text


def test_windows_1252_text():
    text = SOFTWARE_CV + "\nCafé naïve – “quoted” résumé, Zoë, 5 € bonus."
    doc = _ok(read_document_bytes("cv.txt", text.encode("cp1252")))
    assert "“quoted” résumé" in doc.text and "€" in doc.text


def test_nul_bytes_in_text_do_not_crash():
    data = SOFTWARE_CV.encode().replace(b" ", b"\x00", 5)
    doc = _ok(read_document_bytes("cv.txt", data))
    assert "\x00" not in doc.text
    error = _one(read_document_bytes("junk.txt", b"\x00abc" * 1000))
    assert _code(error) in ("not_text", "empty_file", "too_few_words")


def test_ten_megabyte_line_without_spaces_is_bounded():
    start = time.perf_counter()
    result = _one(read_document_bytes("cv.txt", b"A" * (10 * 1024 * 1024 - 1)))
    assert time.perf_counter() - start < 2
    assert _code(result) == "too_few_words"


# --------------------------------------------------------------------------- 5. damaged PDFs


def test_damaged_pdf_is_not_called_scanned():
    good = _pdf([_text_ops(SOFTWARE_CV)])
    start = good.index(b"stream\n") + 7
    broken = good[:start] + b"\x13\x37" * 40 + good[start + 80:]  # content no longer inflates
    blank = _pdf(["q Q"])
    errors = {
        "broken": _one(read_document_bytes("a.pdf", broken)),
        "truncated": _one(read_document_bytes("b.pdf", good[: len(good) // 2])),
        "blank": _one(read_document_bytes("c.pdf", blank)),
    }
    assert _code(errors["broken"]) == "corrupt_pdf"
    assert _code(errors["truncated"]) == "corrupt_pdf"
    assert _code(errors["blank"]) == "no_text_layer"
    assert "damaged" in errors["broken"].message and "scanned" in errors["blank"].message


# --------------------------------------------------------------------------- 6. Word files


def test_docx_bomb_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        parts = zipfile.ZipFile(io.BytesIO(_docx(_document_xml(["x"]))))
        for info in parts.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info.filename, parts.read(info.filename))
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b"<w:document " + _W + b"><w:body>")
            block = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
            for _ in range(200 * 1024):  # ~200 MB of XML
                member.write(block)
            member.write(b"</w:body></w:document>")
    data = buf.getvalue()
    assert len(data) < 2 * 1024 * 1024
    got = _measured_in_child(tmp_path, data, "cv.docx")
    assert got["codes"] == ["zip_bomb"], got
    assert got["seconds"] < 3 and got["rss_mb"] < 200, got


def test_docx_external_entity_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-PAYROLL-DATA")
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "%s">]>' % secret.as_uri().encode()
    data = _docx(_document_xml(SOFTWARE_CV.split("\n"), doctype,
                               b"<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>"))
    doc = _ok(read_document_bytes("cv.docx", data))
    assert "TOPSECRET" not in doc.text and "PostgreSQL" in doc.text


def test_docx_billion_laughs_is_bounded():
    entities = b'<!ENTITY a0 "lol lol lol lol lol lol lol lol lol lol">' + b"".join(
        b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10))
    doctype = b"<!DOCTYPE w:document [" + entities + b"]>"
    data = _docx(_document_xml(SOFTWARE_CV.split("\n"), doctype,
                               b"<w:p><w:r><w:t>&a9;</w:t></w:r></w:p>"))
    start = time.perf_counter()
    result = _one(read_document_bytes("cv.docx", data))
    assert time.perf_counter() - start < 3
    assert _code(result) in ("ok", "corrupt_docx")
    if isinstance(result, ParsedDocument):
        assert result.text.count("lol") < 1000


def test_macro_documents_get_a_clear_message():
    docm = _docx(_document_xml(SOFTWARE_CV.split("\n")),
                 [("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" * 64)])
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\x00")
                         for name in ("Root Entry", "WordDocument", "Macros", "VBA"))
    ole_macro = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504 + directory * 4
    ole_plain = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504 + (
        "WordDocument".encode("utf-16-le").ljust(64, b"\x00") * 4)
    for name, data in (("cv.docx", docm), ("cv.docx", ole_macro)):
        error = _one(read_document_bytes(name, data))
        assert _code(error) == "macro_document", name
        assert "macros" in error.message
    assert _code(_one(read_document_bytes("cv.doc", ole_plain))) == "unsupported_type"


# --------------------------------------------------------------------------- 7. ZIPs


def test_zip_path_traversal_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = _zip([("../../evil.txt", SOFTWARE_CV.encode()), ("/abs/x.txt", SOFTWARE_CV.encode()),
                 ("C:\\win\\y.txt", SOFTWARE_CV.encode())])
    results = read_document_bytes("batch.zip", data)
    assert [r.name for r in results] == ["batch.zip/evil.txt", "batch.zip/abs/x.txt",
                                         "batch.zip/win/y.txt"]
    assert all(isinstance(r, ParsedDocument) for r in results)
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "evil.txt").exists()


def test_zip_symlink_member_is_skipped():
    link = zipfile.ZipInfo("link.txt")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    results = read_document_bytes("b.zip", _zip([(link, b"/etc/passwd"),
                                                 ("cv.txt", SOFTWARE_CV.encode())]))
    assert [_code(r) for r in results] == ["zip_link", "ok"]
    assert "link" in results[0].message


def test_zip_duplicate_names():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("cv.txt", SOFTWARE_CV)
        archive.writestr("cv.txt", SOFTWARE_CV.replace("Python", "Rust"))
    results = read_document_bytes("b.zip", buf.getvalue())
    assert [_code(r) for r in results] == ["ok", "zip_duplicate_name"]
    assert "same name" in results[1].message


def test_zip_with_ten_thousand_members_is_refused_fast():
    data = _zip([(f"cv_{i:05d}.txt", b"short") for i in range(10_000)])
    start = time.perf_counter()
    error = _one(read_document_bytes("b.zip", data))
    assert time.perf_counter() - start < 1
    assert _code(error) == "zip_too_many_members" and "split" in error.message


def test_zip_nested_past_the_depth_cap():
    data = _zip([("cv.txt", SOFTWARE_CV.encode())])
    for level in range(5):
        data = _zip([(f"level{level}.zip", data)])
    error = _one(read_document_bytes("b.zip", data))
    assert _code(error) == "zip_too_deep" and "single ZIP" in error.message


def test_password_protected_zip():
    data = bytearray(_zip([("cv.txt", b"\x00" * 12 + SOFTWARE_CV.encode())],
                          zipfile.ZIP_STORED))
    data[data.index(b"PK\x03\x04") + 6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    error = _one(read_document_bytes("b.zip", bytes(data)))
    assert _code(error) == "encrypted_zip" and "password" in error.message


# --------------------------------------------------------------------------- 8. logging


def test_debug_logs_carry_no_file_names_or_text(caplog):
    name = "Jane Q Candidate CV.txt"
    member = SOFTWARE_CV.encode()
    data = bytearray(_zip([(name, member), ("Other Person.pdf", _hidden_pdf("white")),
                           ("Third Person.docx", b"PK\x03\x04broken")], zipfile.ZIP_STORED))
    at = data.index(member)
    data[at : at + 5] = b"XXXXX"  # the CRC no longer matches: zipfile raises with the name
    with caplog.at_level(logging.DEBUG):
        results = read_document_bytes("Batch of Jane.zip", bytes(data))
        read_document_bytes("Jane Q Candidate.pdf", b"%PDF-1.4\n garbage " * 20)
    assert _code(results[0]) == "corrupt_zip"
    logged = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records)
    logged += "".join(caplog.text)
    assert caplog.records
    for needle in ("Jane", "Candidate", "Other Person", "Third", "Jordan", "PostgreSQL",
                   "nursing"):
        assert needle not in logged, needle


def test_a_pdf_only_the_fallback_reader_can_read_says_hidden_text_was_not_checked(monkeypatch):
    """pypdf reads every character, seen or not: a verdict on its text must say so."""
    from models.screening.documents import pdf as pdf_module
    from models.screening.documents import read_document_bytes
    from tests import hostile_files as h

    def pdfium_breaks(data, limits):
        raise RuntimeError("a hostile file tripped the page reader")

    monkeypatch.setattr(pdf_module, "_pdfium_extract", pdfium_breaks)
    in_process = DocumentLimits(pdf_memory_bytes=None)  # the patch lives in this process
    [doc] = read_document_bytes("cv.pdf", h.hidden_text_pdf("white"), in_process)
    codes = [w.code for w in doc.warnings]
    assert "visibility_unchecked" in codes and "nursing" in doc.text  # read, and said
    monkeypatch.undo()
    [doc] = read_document_bytes("cv.pdf", h.hidden_text_pdf("white"))
    assert [w.code for w in doc.warnings] == ["hidden_text"] and "nursing" not in doc.text
