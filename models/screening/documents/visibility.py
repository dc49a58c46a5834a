"""Which characters of a PDF page a reader can actually see.

Keyword stuffing in white text, in render mode 3 (invisible), off the page, in a 1-pt font or
under an image flips a screening verdict while the CV looks normal to the person reading
it.  pdfium's text page gives each character's box and the text object that drew it; the
page objects, in paint order, give render mode, fill colour, clip and what was painted on
top.  A character is hidden when any of these holds:

* its render mode paints nothing (3 = invisible, 7 = clip only) or its colour is (nearly)
  transparent: under ``_MIN_ALPHA`` opacity;
* its box is under ``_MIN_GLYPH_PT`` high (a 1-pt font; real footnotes are 6 pt and up);
* it is squashed: a run of ``_SQUASH_RUN`` characters or more drawn nearly on top of each
  other (``Tz`` 1 %, a large negative ``Tc``) stacks a paragraph onto a few points;
* its centre lies outside the page's visible box, or no part of its box lies inside its
  object's clip (the bounding boxes of the clip paths: a curved clip keeps more, never
  less; a line cut at a margin stays);
* its colour is within ``_SAME_COLOUR`` of what is painted beneath it (white on white);
* an opaque image or filled shape painted after it covers its centre, at the top level or
  inside a form XObject (mapped to page space through the forms' matrices).

One exception keeps OCR'd scans readable: a page that is essentially one big image with
invisible (or covered) text and next to no visible text is an OCR layer, and its invisible
text is what the image shows.  Objects inside form XObjects keep their paint order within
the form, and their text is clipped by the forms around it too.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import numpy as np
import pypdfium2.raw as pdfium_c

_MIN_GLYPH_PT = 3.0
_MIN_ALPHA = 26  # of 255: text under 10 % opacity does not read on paper or screen
_SQUASH_STEP = 0.05  # of the glyph's height; normal letters advance 0.19-0.6 of it
_SQUASH_OVERLAP = 0.25  # of the height; kerning overlaps a few hundredths
_SQUASH_RUN = 5  # steps in a row (a combining accent or kerned pair is one step)
_SQUASH_EXTENT = 0.15  # of the height per character: readable text spans 0.3-0.6 of it
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
_CLIP = _fast(pdfium_c.FPDFPageObj_GetClipPath, _P, _P)
_STROKE = _fast(pdfium_c.FPDFPageObj_GetStrokeColor, _I, _P, _P, _P, _P, _P)
_TEXT, _FORM = pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_FORM
_IMAGE, _PATH = pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH
_MAX_FORM_DEPTH = 8
_NO_CLIP = (-np.inf, -np.inf, np.inf, np.inf)
_UNKNOWN = (-1, 0, 0.0, 0.0, 0.0, 255.0, *_NO_CLIP)  # a text object not found: visible


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
        self._seq = 0
        self._rgba = (ctypes.c_uint * 4)()
        base = ctypes.addressof(self._rgba)
        self._rgba_ptrs = [base + 4 * k for k in range(4)]
        page_address = ctypes.cast(page, ctypes.c_void_p).value
        self._add_objects(_COUNT(page_address), lambda k: _GET(page_address, k))

    @property
    def too_complex(self) -> bool:
        return self.n_objects > self.max_objects

    def _add_text(self, obj: int, z: float, clip: tuple) -> None:
        """``clip``: the object's own clip and its forms', in page space."""
        mode = _RENDER_MODE(obj)
        getter = _STROKE if mode in _STROKE_MODES else _FILL
        if getter(obj, *self._rgba_ptrs):
            r, g, b, a = self._rgba
            self.text[obj] = (z, mode, r / 255, g / 255, b / 255, float(a), *clip)
        else:
            self.text[obj] = (z, *_UNKNOWN[1:6], *clip)

    def _add_objects(self, count: int, get: Callable[[int], int], depth: int = 0,
                     matrix: np.ndarray | None = None, clip: tuple = _NO_CLIP,
                     form_index: int | None = None) -> None:
        """The page's objects (``form_index`` None: each paints at its own index), or a
        form's contents in their own paint order between the form's ``form_index`` and the
        next top-level object.  Text is clipped by its own clip and its forms'; opaque shapes
        and images cover what was painted before them.  Form-space boxes and clips are mapped
        to page space through ``matrix`` (the forms' matrices, innermost first)."""
        for k in range(max(count, 0)):
            if self.too_complex:
                return
            obj = get(k)
            if not obj:
                continue
            self.n_objects += 1
            if form_index is None:
                z = index = k
                self._seq = 0  # objects seen inside this top-level object's forms
            else:
                self._seq += 1
                z, index = form_index + 1 - 1 / (self._seq + 1), form_index  # in (i, i + 1)
            kind = _TYPE(obj)
            if kind == _TEXT:
                self._add_text(obj, z, _intersect(clip, _map_clip(obj, matrix)))
            elif kind == _FORM and depth <= _MAX_FORM_DEPTH:
                inner = _matrix(obj) if matrix is None else _matrix(obj) @ matrix
                self._add_objects(_FORM_COUNT(obj), lambda i, form=obj: _FORM_GET(form, i),
                                  depth + 1, inner, _intersect(clip, _map_clip(obj, matrix)),
                                  index)
            elif kind in (_IMAGE, _PATH):
                cover = _cover(ctypes.cast(obj, pdfium_c.FPDF_PAGEOBJECT), kind)
                if cover is not None:
                    box = cover[0] if matrix is None else _map_box(cover[0], matrix)
                    self.covers.append((z, box, cover[1]))


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
    z, mode, rgba, clip = props[:, 0], props[:, 1], props[:, 2:6], props[:, 6:10]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2

    invisible = np.isin(mode, _INVISIBLE_MODES) | (rgba[:, 3] < _MIN_ALPHA)
    height = boxes[:, 1] - boxes[:, 3]
    tiny = height < _MIN_GLYPH_PT
    left, bottom, right, top = layout.box
    off_page = (
        (cx < left - _OFF_PAGE_SLACK)
        | (cx > right + _OFF_PAGE_SLACK)
        | (cy < bottom - _OFF_PAGE_SLACK)
        | (cy > top + _OFF_PAGE_SLACK)
    )
    clipped = (  # no part of the glyph's box inside its clip (a line cut at a margin stays)
        (boxes[:, 2] < clip[:, 0]) | (boxes[:, 0] > clip[:, 2])
        | (boxes[:, 1] < clip[:, 1]) | (boxes[:, 3] > clip[:, 3])
    )
    squashed = _squashed(cx, cy, height, owners, boxes)
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
    hidden = painted & (invisible | tiny | squashed | off_page | clipped | same_colour | covered)
    if big_image and _non_blank(painted & ~hidden, boxes) <= _OCR_MAX_VISIBLE:
        # an OCR'd scan: its invisible text layer is what the page image shows
        hidden &= ~(invisible | covered_by_image) | tiny | squashed | off_page | clipped
    return ~hidden, _non_blank(hidden, boxes)


def _squashed(cx: np.ndarray, cy: np.ndarray, height: np.ndarray, owners: np.ndarray,
              boxes: np.ndarray) -> np.ndarray:
    """Characters in a run of ``_SQUASH_RUN`` or more squashed steps within one text object
    (see the module).  A step is squashed when the next glyph is drawn under
    ``_SQUASH_STEP`` of the height away (``Tz`` 1 %), or on the same line overlaps this one
    by over ``_SQUASH_OVERLAP`` of the height or starts left of it (a large negative
    ``Tc``).  Kerned pairs overlap by a few hundredths."""
    n = len(cx)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    h = np.maximum(height[1:], _MIN_GLYPH_PT)
    step = np.hypot(np.diff(cx), np.diff(cy))
    same_line = np.abs(np.diff(cy)) < 0.5 * h
    overlap = boxes[:-1, 2] - boxes[1:, 0]
    backwards = boxes[1:, 0] < boxes[:-1, 0] - 0.05 * h
    real = ((boxes[:, 2] - boxes[:, 0]) > 0) | (height > 0)
    short = ((owners[1:] == owners[:-1]) & (owners[1:] != 0) & real[1:] & real[:-1]
             & ((step < _SQUASH_STEP * h)
                | (same_line & ((overlap > _SQUASH_OVERLAP * h) | backwards))))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], short.astype(np.int8), [0]))))
    for start, end in zip(edges[::2], edges[1::2], strict=True):  # steps start..end-1
        if end - start < _SQUASH_RUN:
            continue
        run = slice(start, end + 1)  # step k joins characters k and k + 1
        # how far the glyph centres spread, in any direction: right-to-left, vertical or
        # rotated text steps backwards too, but spreads over its length
        spread = np.hypot(np.ptp(cx[run]), np.ptp(cy[run]))
        if spread < _SQUASH_EXTENT * np.median(height[run]) * (end - start):
            out[run] = True
    return out


def _matrix(obj: int) -> np.ndarray:
    """The object's matrix (a b c d e f) as a 3x3 row-vector transform."""
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(ctypes.cast(obj, pdfium_c.FPDF_PAGEOBJECT),
                                          ctypes.byref(m)):
        return np.eye(3)
    return np.array([[m.a, m.b, 0.0], [m.c, m.d, 0.0], [m.e, m.f, 1.0]])


def _map_box(box: tuple, matrix: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0, 1], [x0, y1, 1], [x1, y0, 1], [x1, y1, 1]]) @ matrix
    return (corners[:, 0].min(), corners[:, 1].min(), corners[:, 0].max(), corners[:, 1].max())


def _map_clip(obj: int, matrix: np.ndarray | None) -> tuple[float, float, float, float]:
    """The object's clip box mapped through ``matrix`` (None: already in page space;
    unbounded stays unbounded)."""
    box = _clip_box(obj)
    if matrix is None or box == _NO_CLIP or not np.isfinite(box).all():
        return box
    return _map_box(box, matrix)


def _clip_box(obj: int) -> tuple[float, float, float, float]:
    """Bounding box of the object's clip (the intersection of its clip paths' boxes), in
    page space; unbounded when it has none or a path cannot be read."""
    clip = _CLIP(obj)
    if not clip:
        return _NO_CLIP
    clip = ctypes.cast(clip, pdfium_c.FPDF_CLIPPATH)
    box = _NO_CLIP
    x, y = ctypes.c_float(), ctypes.c_float()
    for path in range(max(pdfium_c.FPDFClipPath_CountPaths(clip), 0)):
        n_segments = pdfium_c.FPDFClipPath_CountPathSegments(clip, path)
        if n_segments <= 0 or n_segments > 10_000:
            continue
        xs, ys = [], []
        for k in range(n_segments):
            segment = pdfium_c.FPDFClipPath_GetPathSegment(clip, path, k)
            if segment and pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x),
                                                              ctypes.byref(y)):
                xs.append(x.value)
                ys.append(y.value)
        if xs:
            box = _intersect(box, (min(xs), min(ys), max(xs), max(ys)))
    return box


def _intersect(a: tuple, b: tuple) -> tuple:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


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
