"""Which characters of a PDF page a reader can actually see.

Keyword stuffing in white text, in render mode 3 (invisible), off the page, in a 1-pt font or
under an image flips a screening verdict while the CV looks normal to the person reading
it.  pdfium's text page gives each character's box and the text object that drew it; the
page objects, in paint order, give render mode, fill colour and what was painted on top.
A character is hidden when any of these holds:

* its render mode paints nothing (3 = invisible, 7 = clip only) or its colour is transparent;
* its box is under ``_MIN_GLYPH_PT`` high (a 1-pt font; real footnotes are 6 pt and up);
* its centre lies outside the page's visible box;
* its colour is within ``_SAME_COLOUR`` of what is painted beneath it (white on white);
* an opaque image or filled shape painted after it covers its centre.

One exception keeps OCR'd scans readable: a page that is essentially one big image with
invisible (or covered) text and next to no visible text is an OCR layer, and its invisible
text is what the image shows.  Only top-level paths and images count as covers or
backgrounds (their bounds are in page space); text inside form XObjects takes the paint
position of its form.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pypdfium2.raw as pdfium_c

_MIN_GLYPH_PT = 3.0
_SAME_COLOUR = 0.12  # max channel difference (0..1) that reads as "the same colour"
_OFF_PAGE_SLACK = 1.0
_MAX_COVER_SEGMENTS = 8  # filled shapes with more segments (circles, logos) are not covers
_OCR_IMAGE_SHARE = 0.6  # an image this share of the page with ~no visible text: a scan
_OCR_MAX_VISIBLE = 20
_INVISIBLE_MODES = (pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE, pdfium_c.FPDF_TEXTRENDERMODE_CLIP)
_STROKE_MODES = (
    pdfium_c.FPDF_TEXTRENDERMODE_STROKE,
    pdfium_c.FPDF_TEXTRENDERMODE_STROKE_CLIP,
)
def _fast(function: object, restype: object, *argtypes: object) -> object:
    """The C function behind a pypdfium2 binding with plain integer arguments: ctypes then
    skips its per-call conversions (pages have thousands of objects, one per glyph)."""
    address = ctypes.cast(function, ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


_P, _I = ctypes.c_void_p, ctypes.c_int
_TEXT_OBJECT = _fast(pdfium_c.FPDFText_GetTextObject, _P, _P, _I)
_COUNT = _fast(pdfium_c.FPDFPage_CountObjects, _I, _P)
_GET = _fast(pdfium_c.FPDFPage_GetObject, _P, _P, _I)
_FORM_COUNT = _fast(pdfium_c.FPDFFormObj_CountObjects, _I, _P)
_FORM_GET = _fast(pdfium_c.FPDFFormObj_GetObject, _P, _P, ctypes.c_ulong)
_TYPE = _fast(pdfium_c.FPDFPageObj_GetType, _I, _P)
_RENDER_MODE = _fast(pdfium_c.FPDFTextObj_GetTextRenderMode, _I, _P)
_FILL = _fast(pdfium_c.FPDFPageObj_GetFillColor, _I, _P, _P, _P, _P, _P)
_STROKE = _fast(pdfium_c.FPDFPageObj_GetStrokeColor, _I, _P, _P, _P, _P, _P)
_TEXT, _FORM = pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_FORM
_IMAGE, _PATH = pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH
_MAX_FORM_DEPTH = 8
_UNKNOWN = (-1, 0, 0.0, 0.0, 0.0, 255.0)  # a text object not found: black, visible


class PageLayout:
    """A page's objects in paint order: for every text object (forms included) its paint
    index, render mode and colour; the opaque covers; the visible box.

    Walking the objects is also what bounds a page: a small form drawn thousands of times
    makes pdfium build a text page of millions of characters, so the walk stops, and
    ``too_complex`` says so, past ``max_objects``."""

    def __init__(self, page: object, max_objects: int) -> None:
        self.n_objects = 0
        self.max_objects = max_objects
        self.text: dict[int, tuple] = {}
        self.covers: list = []
        self.box = _page_box(page)
        left, bottom, right, top = self.box
        self.area = max((right - left) * (top - bottom), 1.0)
        self._rgba = (ctypes.c_uint * 4)()
        base = ctypes.addressof(self._rgba)
        self._rgba_ptrs = [base + 4 * k for k in range(4)]
        page_address = ctypes.cast(page, ctypes.c_void_p).value
        for index in range(max(_COUNT(page_address), 0)):
            if self.too_complex:
                return
            obj = _GET(page_address, index)
            if not obj:
                continue
            self.n_objects += 1
            kind = _TYPE(obj)
            if kind == _TEXT:
                self._add_text(obj, index)
            elif kind == _FORM:
                self._add_form(obj, index, 0)
            elif kind in (_IMAGE, _PATH):
                cover = _cover(ctypes.cast(obj, pdfium_c.FPDF_PAGEOBJECT), kind)
                if cover is not None:
                    self.covers.append((index, *cover))

    @property
    def too_complex(self) -> bool:
        return self.n_objects > self.max_objects

    def _add_text(self, obj: int, index: int) -> None:
        mode = _RENDER_MODE(obj)
        getter = _STROKE if mode in _STROKE_MODES else _FILL
        if getter(obj, *self._rgba_ptrs):
            r, g, b, a = self._rgba
            self.text[obj] = (index, mode, r / 255, g / 255, b / 255, float(a))
        else:
            self.text[obj] = (index, *_UNKNOWN[1:])

    def _add_form(self, form: int, index: int, depth: int) -> None:
        for k in range(max(_FORM_COUNT(form), 0)):
            if self.too_complex:
                return
            obj = _FORM_GET(form, k)
            if not obj:
                continue
            self.n_objects += 1
            kind = _TYPE(obj)
            if kind == _TEXT:
                self._add_text(obj, index)  # paints where its form paints
            elif kind == _FORM and depth < _MAX_FORM_DEPTH:
                self._add_form(obj, index, depth + 1)


def visible_mask(
    layout: PageLayout, textpage: object, boxes: np.ndarray
) -> tuple[np.ndarray, int]:
    """(keep, hidden): which of the page's characters a reader sees, and how many do not.

    ``boxes`` are the characters' loose boxes (left, top, right, bottom) in page space.
    Characters pdfium generated (spaces, line breaks) have no text object and are kept."""
    n_chars = len(boxes)
    if n_chars == 0:
        return np.ones(0, dtype=bool), 0
    address = ctypes.cast(textpage, ctypes.c_void_p).value
    owners = np.fromiter(
        (_TEXT_OBJECT(address, i) or 0 for i in range(n_chars)), dtype=np.uint64, count=n_chars
    )
    painted = owners != 0
    if not painted.any():
        return np.ones(n_chars, dtype=bool), 0
    objects, inverse = np.unique(owners, return_inverse=True)
    table = np.array([layout.text.get(int(o), _UNKNOWN) for o in objects], dtype=float)
    props = table[inverse.reshape(-1)]
    z, mode, rgba = props[:, 0], props[:, 1], props[:, 2:6]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2

    invisible = np.isin(mode, _INVISIBLE_MODES) | (rgba[:, 3] == 0)
    tiny = (boxes[:, 1] - boxes[:, 3]) < _MIN_GLYPH_PT
    left, bottom, right, top = layout.box
    off_page = (
        (cx < left - _OFF_PAGE_SLACK)
        | (cx > right + _OFF_PAGE_SLACK)
        | (cy < bottom - _OFF_PAGE_SLACK)
        | (cy > top + _OFF_PAGE_SLACK)
    )
    background = np.ones((n_chars, 3))  # paper is white
    background_is_image = np.zeros(n_chars, dtype=bool)
    covered = np.zeros(n_chars, dtype=bool)
    covered_by_image = np.zeros(n_chars, dtype=bool)
    big_image = False
    for cover_z, (x0, y0, x1, y1), colour in layout.covers:  # paint order: later ones win
        inside = (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
        if colour is None and (x1 - x0) * (y1 - y0) >= _OCR_IMAGE_SHARE * layout.area:
            big_image = True
        below = inside & (cover_z < z)
        above = inside & (cover_z > z)
        if colour is None:
            background_is_image |= below
            covered_by_image |= above
        else:
            background[below] = colour
            background_is_image &= ~below
        covered |= above
    same_colour = ~background_is_image & (
        np.abs(rgba[:, :3] - background).max(axis=1) < _SAME_COLOUR
    )
    hidden = painted & (invisible | tiny | off_page | same_colour | covered)
    if big_image and _non_blank(painted & ~hidden, boxes) <= _OCR_MAX_VISIBLE:
        # an OCR'd scan: its invisible text layer is what the page image shows
        hidden &= ~(invisible | covered_by_image) | tiny | off_page
    return ~hidden, _non_blank(hidden, boxes)


def _non_blank(mask: np.ndarray, boxes: np.ndarray) -> int:
    """Characters in ``mask`` with a real box (generated spaces have an empty one)."""
    return int((mask & ((boxes[:, 2] - boxes[:, 0]) > 0)).sum())


def _page_box(page: object) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of what a viewer shows (crop box within media box)."""
    rect = pdfium_c.FS_RECTF()
    if pdfium_c.FPDF_GetPageBoundingBox(page, ctypes.byref(rect)):
        return rect.left, min(rect.bottom, rect.top), rect.right, max(rect.bottom, rect.top)
    return 0.0, 0.0, pdfium_c.FPDF_GetPageWidthF(page), pdfium_c.FPDF_GetPageHeightF(page)


def _cover(obj: object, kind: int) -> tuple[tuple[float, float, float, float], object] | None:
    """Bounds and fill colour (None: an image) of an opaque object, or None if see-through."""
    if pdfium_c.FPDFPageObj_HasTransparency(obj):
        return None
    colour = None
    if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
        fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
        if not pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill_mode), ctypes.byref(stroke)):
            return None
        if fill_mode.value == 0:
            return None
        if pdfium_c.FPDFPath_CountSegments(obj) > _MAX_COVER_SEGMENTS:
            return None
        r, g, b, a = (ctypes.c_uint() for _ in range(4))
        if not pdfium_c.FPDFPageObj_GetFillColor(
            obj, ctypes.byref(r), ctypes.byref(g), ctypes.byref(b), ctypes.byref(a)
        ) or a.value < 255:
            return None
        colour = np.array([r.value, g.value, b.value]) / 255
    x0, y0, x1, y1 = (ctypes.c_float() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetBounds(
        obj, ctypes.byref(x0), ctypes.byref(y0), ctypes.byref(x1), ctypes.byref(y1)
    ):
        return None
    return (x0.value, y0.value, x1.value, y1.value), colour
