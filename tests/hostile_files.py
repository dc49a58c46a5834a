"""Hostile and broken files, built in the test run (nothing large is committed).

Each builder returns bytes; the PDFs are written by hand (objects, a content stream, an xref
table) so a test controls exactly what a viewer would show: fill colour, render mode, font
size, position.
"""

from __future__ import annotations

import io
import zipfile
import zlib

SOFTWARE_CV = (
    "Jordan Lee\nSoftware Engineer\n"
    "Summary: backend software engineer with seven years of Python, Java and Go. Designed REST "
    "APIs and microservices on AWS, wrote unit and integration tests, ran CI/CD pipelines with "
    "Docker and Kubernetes, and tuned PostgreSQL queries for a payments platform.\n"
    "Experience: Senior Software Engineer, Acme Payments, 2019-2024. Built event-driven "
    "services in Python and Kafka; led code reviews; mentored four engineers; cut p99 latency "
    "by 40 percent. Software Engineer, Widget Labs, 2016-2019. Java Spring services, React "
    "front ends, Git, agile delivery.\n"
    "Skills: Python, Java, Go, SQL, PostgreSQL, Docker, Kubernetes, AWS, Terraform, Git, Linux."
)
NURSING_STUFFING = "nursing patient care registered nurse medication administration " * 40


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text_ops(text: str, *, x: float = 72, y: float = 760, size: float = 10,
              colour: str = "0 0 0 rg", mode: int = 0) -> str:
    ops = [f"BT /F1 {size:g} Tf {colour} {mode} Tr {size * 1.3:g} TL {x:g} {y:g} Td"]
    for line in _wrap(text, 90):
        ops.append(f"({_pdf_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        words, line = para.split(), ""
        for word in words:
            if len(line) + len(word) + 1 > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
    return lines


def pdf(pages: list[str | bytes], *, compress: bool = True,
        extra_objects: dict[int, bytes] | None = None, page_resources: str = "") -> bytes:
    """A PDF whose page i has the content stream ``pages[i]``: operators (str), or a whole
    stream object as given (bytes: its dictionary, ``stream`` ... ``endstream``)."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    next_id = 10
    for content in pages:
        if isinstance(content, bytes):
            objects[next_id + 1] = content
        else:
            raw = content.encode("latin-1")
            data = zlib.compress(raw) if compress else raw
            filt = b" /Filter /FlateDecode" if compress else b""
            objects[next_id + 1] = (b"<< /Length %d%s >>\nstream\n" % (len(data), filt)
                                    + data + b"\nendstream")
        objects[next_id] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                            b"/Resources << /Font << /F1 3 0 R >> " + page_resources.encode()
                            + b" >> /Contents %d 0 R >>" % (next_id + 1))
        kids.append(next_id)
        next_id += 2
    objects[2] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                  + b"] /Count %d >>" % len(kids))
    objects.update(extra_objects or {})
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        if number in offsets:
            out.write(b"%010d 00000 n \n" % offsets[number])
        else:
            out.write(b"0000000000 65535 f \n")
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def text_pdf(text: str = SOFTWARE_CV) -> bytes:
    return pdf([_text_ops(text)])


_IMAGE = (b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
          b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream")
_COVER = b"q 1 1 1 rg 0 0 612 500 re f Q"
_COVER_FORM = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Length %d >>\nstream\n"
               % len(_COVER) + _COVER + b"\nendstream")
#: What ``hiding_ops`` refers to: a 1-pixel image (Im1), a form painting a white band
#: (Cover), a 2 % opacity state (Faint).
HIDING_RESOURCES = ("/XObject << /Im1 4 0 R /Cover 5 0 R >> "
                    "/ExtGState << /Faint << /ca 0.02 >> >>")
HIDING_OBJECTS = {4: _IMAGE, 5: _COVER_FORM}


def hiding_ops(hidden: str) -> dict[str, str]:
    """Each way of drawing ``hidden`` so a reader cannot see it, as page operators."""
    at_400 = _text_ops(hidden, y=400)
    return {
        "white": _text_ops(hidden, y=400, colour="1 1 1 rg"),
        "render_mode_3": _text_ops(hidden, y=400, mode=3),
        "off_page": _text_ops(hidden, x=2000, y=3000),
        "one_point": _text_ops(hidden, y=300, size=1),
        "behind_shape": at_400 + "\nq 0.5 0 0 rg 0 0 612 500 re f Q",
        "behind_image": at_400 + "\nq 612 0 0 500 0 0 cm /Im1 Do Q",
        "squashed_tz": at_400.replace(" Tr ", " Tr 1 Tz ", 1),
        "squashed_tc": at_400.replace(" Tr ", " Tr -4.8 Tc ", 1),
        "nearly_transparent": "/Faint gs\n" + at_400,
        "clipped": "q 0 0 1 1 re W n\n" + at_400 + "\nQ",
        "behind_form_shape": at_400 + "\n/Cover Do",
    }


def hidden_text_pdf(how: str, visible: str = SOFTWARE_CV,
                    hidden: str = NURSING_STUFFING) -> bytes:
    """The software CV plus keyword stuffing a reader cannot see, hidden ``how``."""
    return pdf([_text_ops(visible) + "\n" + hiding_ops(hidden)[how]],
               page_resources=HIDING_RESOURCES, extra_objects=HIDING_OBJECTS)


def many_pages_pdf(pages: int = 2000) -> bytes:
    page = _text_ops("Page of a very long document with experience and skills listed.")
    return pdf([page] * pages)


def pdf_bomb(inflated_mb: int = 400, *, hide: str = "") -> bytes:
    """A small file whose page stream inflates to ``inflated_mb`` MB of text operators.

    ``hide`` puts the Flate data where a scan of raw bytes does not see it: ``"chain"``
    behind ``[/ASCIIHexDecode /FlateDecode]``, ``"reference"`` with the filter given as an
    indirect object."""
    chunk = b"(AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA) Tj\n" * 16000
    comp = zlib.compressobj(9)
    parts = [comp.compress(b"BT /F1 10 Tf 72 700 Td\n")]
    for _ in range(inflated_mb * 1024 * 1024 // len(chunk)):
        parts.append(comp.compress(chunk))
    parts.append(comp.compress(b"ET\n") + comp.flush())
    data = b"".join(parts)
    extra: dict[int, bytes] = {}
    if hide == "chain":
        data = data.hex().encode() + b">"
        filt = b"[/ASCIIHexDecode /FlateDecode]"
    elif hide == "reference":
        filt, extra = b"4 0 R", {4: b"/FlateDecode"}
    else:
        filt = b"/FlateDecode"
    stream = b"<< /Length %d /Filter %s >>\nstream\n" % (len(data), filt) + data + b"\nendstream"
    return pdf([stream], extra_objects=extra)


def blank_pdf() -> bytes:
    return pdf(["q Q"])


def corrupt_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> garbage \x00\xff" * 50


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def docx(paragraphs: list[str], *, document_xml: str | None = None,
         extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Word document (what python-docx needs to open it)."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = document_xml or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>")
    members = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/word/document.xml" ContentType="application/vnd.'
            b'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": xml.encode(),
    }
    members.update(extra or {})
    return zip_of(members)


def xxe_docx(target: str = "file:///etc/passwd") -> bytes:
    xml = ('<?xml version="1.0" encoding="UTF-8"?>'
           f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{target}">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           "<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>"
           + "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in SOFTWARE_CV.split("\n"))
           + "</w:body></w:document>")
    return docx([], document_xml=xml)


def docx_bomb(inflated_mb: int = 600) -> bytes:
    """A DOCX whose document.xml inflates to ``inflated_mb`` MB (one repeated run)."""
    run = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
    head = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            b'openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    buf = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(docx(["x"])))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info.filename, base.read(info.filename))
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(head)
            block = run * 1024
            for _ in range(inflated_mb * 1024 * 1024 // len(block)):
                member.write(block)
            member.write(b"</w:body></w:document>")
    return buf.getvalue()


def ole_macro_document() -> bytes:
    """What a legacy Word file with macros starts with (the OLE2 compound-file magic)."""
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504 + b"Macros VBA AutoOpen" * 200


def docm_renamed() -> bytes:
    """A macro-enabled Word package (vbaProject.bin inside) saved with a .docx name."""
    return docx(SOFTWARE_CV.split("\n"), extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" * 64})


def traversal_zip() -> bytes:
    return zip_of({"../../etc/evil.txt": SOFTWARE_CV.encode(),
                   "/abs/path.txt": SOFTWARE_CV.encode(), "ok.txt": SOFTWARE_CV.encode()})


def symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        info = zipfile.ZipInfo("link.txt")
        info.create_system = 3
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")
        archive.writestr("cv.txt", SOFTWARE_CV)
    return buf.getvalue()


def duplicate_names_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("cv.txt", SOFTWARE_CV)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            archive.writestr("cv.txt", SOFTWARE_CV.replace("Python", "Rust"))
    return buf.getvalue()


def many_members_zip(count: int = 10_000) -> bytes:
    return zip_of({f"cv_{i:05d}.txt": b"short" for i in range(count)})


def nested_zip(depth: int = 5) -> bytes:
    data = zip_of({"cv.txt": SOFTWARE_CV.encode()})
    for level in range(depth):
        data = zip_of({f"level{level}.zip": data})
    return data


def password_zip() -> bytes:
    """A ZIP whose member says it is encrypted (the traditional PKWARE flag, bit 0)."""
    data = bytearray(zip_of({"cv.txt": b"\x00" * 12 + SOFTWARE_CV.encode()},
                            compression=zipfile.ZIP_STORED))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 6] |= 0x1  # general-purpose flag of the local header
    data[central + 8] |= 0x1  # and of the central directory entry
    return bytes(data)


def many_big_members_zip(members: int = 150, mb: float = 1.0) -> bytes:
    line = (SOFTWARE_CV.replace("\n", " ") + "\n").encode()
    blob = line * int(mb * 1024 * 1024 // len(line))
    return zip_of({f"cv_{i:03d}.txt": blob for i in range(members)})


FRENCH_CV = (
    "Claire Martin\nIngénieure logiciel\n"
    "Profil : ingénieure logiciel backend avec six ans d'expérience en Python et Java. "
    "Conception d'API REST et de microservices sur AWS, tests unitaires et d'intégration, "
    "intégration continue avec Docker et Kubernetes, optimisation de requêtes PostgreSQL.\n"
    "Expérience : Ingénieure logiciel senior, Société Générale, 2018-2024. Services Python et "
    "Kafka ; revue de code ; encadrement de trois développeurs.\n"
    "Compétences : Python, Java, SQL, PostgreSQL, Docker, Kubernetes, AWS, Git, Linux."
)
CHINESE_CV = (
    "王小明\n软件工程师\n"
    "个人简介：七年后端软件开发经验，熟悉 Python、Java 和 Go。"
    "设计 REST API 和微服务，部署在 AWS 上，"
    "编写单元测试和集成测试，使用 Docker 和 Kubernetes 搭建持续集成流水线，优化 PostgreSQL 查询。\n"
    "工作经历：高级软件工程师，某支付公司，2019-2024。负责基于 Kafka 的事件驱动服务，主导代码评审，"
    "指导四名工程师。\n技能：Python、Java、Go、SQL、PostgreSQL、Docker、Kubernetes、AWS、Git、Linux。"
)
ARABIC_MIXED_CV = (
    "سارة أحمد\nSoftware Engineer مهندسة برمجيات\n"
    "Backend engineer with Python, Java and SQL; خبرة ست سنوات في تطوير الخدمات. "
    "Built REST APIs on AWS with Docker and Kubernetes, wrote unit tests, tuned PostgreSQL, "
    "and ran CI/CD pipelines. \u202eevil override\u202c text and more experience with Git."
)
