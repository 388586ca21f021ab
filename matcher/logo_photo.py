"""Real-photo robustness of logo matching: logos printed in negative.

A logo registered dark on light (a black trefoil, a black swoosh cut from a photo) is very often
printed or stitched light on dark: a white swoosh on a black shirt, a trefoil embroidered in pale
thread on a blue jacket. In the FlickrLogos-27 photos of the registered adidas trefoil kept in
``tests/data/flickrlogos27-blind``, all 8 show it lighter than its surroundings. SIFT descriptors
are not polarity-blind, so those photos gave the logo's keypoints no matching descriptor at all,
and no fit to verify (the dense check is polarity-blind already: it compares edge orientation
fields, see :func:`matcher.logo_features.dense_scores`).

The SIFT descriptor of the intensity-inverted image needs no second SIFT pass: inverting the
intensities negates every gradient, so a keypoint keeps its place and scale, its reference
orientation turns by 180 degrees, and every gradient's direction *relative to that reference*
stays the same. The descriptor's 4x4 grid of 8-bin orientation histograms is therefore the
original grid turned by 180 degrees (cell (r, c) -> (3 - r, 3 - c)), orientation bins unchanged.
tests/test_logo_real_b.py checks that identity against OpenCV's SIFT on an inverted image.

:func:`negative_photo` gives a photo's features with every descriptor replaced by its negative;
:func:`find_logos_any_polarity` runs the ordinary search (:func:`matcher.logo_features.find_logos`)
on the photo as it is and again on its negative, and keeps the better of overlapping detections.
Two separate passes rather than one pass over both descriptor sets: mixing them doubled every
photo keypoint's votes and RANSAC outliers and cost 4 points of recall on the 1,000-logo synthetic
benchmark; separately the ordinary pass is unchanged. Cost: a second descriptor look-up and
verification of the negative's shortlist (no second SIFT pass).

Pure numpy + the logo matcher's own modules; no store/crawler/web imports.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .logo_features import Detection, LogoIndex, PhotoFeatures

NEGATIVE_PASS = True  # search every photo a second time in negative (module docstring)
NEGATIVE_TOP = 3      # logos verified in the negative pass (the ordinary pass verifies shortlist_size)
NEGATIVE_RISE = 1.25  # ... only when their votes grow at least this much in negative (negative_shortlist)
NEGATIVE_MIN_VOTES = 3

SIFT_GRID = 4   # OpenCV SIFT: a 4x4 grid of cells ...
SIFT_BINS = 8   # ... of 8 orientation bins, laid out row-major as (row, column, bin)


def negative_descriptors(desc: np.ndarray) -> np.ndarray:
    """SIFT descriptors (n, 128) as the same keypoints give them in the intensity-inverted image.

    Same dtype and shape as ``desc``; raises ValueError when ``desc`` is not (n, 128)."""
    if desc.ndim != 2 or desc.shape[1] != SIFT_GRID * SIFT_GRID * SIFT_BINS:
        raise ValueError(f"expected SIFT descriptors (n, 128), got {desc.shape}")
    grid = desc.reshape(-1, SIFT_GRID, SIFT_GRID, SIFT_BINS)
    return np.ascontiguousarray(grid[:, ::-1, ::-1, :].reshape(desc.shape))


def negative_photo(photo: "PhotoFeatures") -> "PhotoFeatures":
    """The same photo (same keypoints, grey images and cached analyses) with every descriptor
    replaced by its negative: what SIFT would give on the intensity-inverted photo."""
    neg = copy.copy(photo)  # shares the grey images, structure and cached regions
    neg.descriptors = negative_descriptors(photo.descriptors) if len(photo.descriptors) else photo.descriptors
    return neg


class _Shortlisted:
    """A view of a LogoIndex whose shortlist is fixed in advance (what find_logos verifies)."""

    def __init__(self, index: "LogoIndex", chosen: list[tuple[int, int]]):
        self.templates = index.templates
        self.solid: list[int] = []
        self._chosen = chosen

    def shortlist(self, photo, top: int = 10, min_votes: int = 3) -> list[tuple[int, int]]:
        return self._chosen[:top]


def negative_shortlist(pos_votes: np.ndarray, neg_votes: np.ndarray, solid: list[int],
                       top: int = None) -> list[tuple[int, int]]:
    """(template index, negative votes) of the logos worth verifying in negative: those whose votes
    rise most when the photo's descriptors are negated (ratio negative / ordinary votes, at least
    ``NEGATIVE_RISE``; at most ``top``, default NEGATIVE_TOP) and the ``top`` best-voted in negative;
    solid silhouettes left out.

    Raw vote counts do not tell: a photo keypoint votes for the logos of its nearest descriptors,
    so logos with many keypoints collect many votes in either polarity; a logo printed in negative
    is the one whose votes grow (measured on the FlickrLogos-27 sets: x1.7-2.8 for the negative
    prints, 0.8-1.3 for the other logos)."""
    top = NEGATIVE_TOP if top is None else top
    rise = neg_votes.astype(np.float64) / np.maximum(pos_votes, 1)
    rise[neg_votes < NEGATIVE_MIN_VOTES] = 0.0
    if solid:
        rise[np.asarray(solid, np.int64)] = 0.0
    order = [int(i) for i in np.argsort(-rise, kind="stable")[:top] if rise[i] >= NEGATIVE_RISE]
    # ... and the best-voted in negative (a photo showing the logo in both polarities: no rise)
    raw = neg_votes.astype(np.int64).copy()
    raw[rise <= 0] = 0
    order += [int(i) for i in np.argsort(-raw, kind="stable")[:top] if raw[i] > 0 and int(i) not in order]
    return [(i, int(neg_votes[i])) for i in order]


def find_logos_any_polarity(index: "LogoIndex", photo: "PhotoFeatures", *,
                            min_similarity: float) -> list["Detection"]:
    """Every registered logo found in the photo as it is or printed in negative (best first),
    above ``min_similarity``; one detection per place (:func:`suppress_overlaps`). Detections of
    the negative pass carry ``parts["negative"] = 1`` (for evidence and tuning). A placement with
    strong geometric support that the fine dense check leaves under ``min_similarity`` gets a
    second, coarse-scale reading (:func:`coarse_rescue`)."""
    from .logo_features import find_logos, suppress_overlaps

    below: list["Detection"] = []  # placements the fine check left under min_similarity
    dets = find_logos(index, photo, min_similarity=min_similarity, below=below)
    pos_votes = getattr(index, "last_votes", None)
    if NEGATIVE_PASS and len(photo.descriptors) and pos_votes is not None:
        pos_votes = pos_votes.copy()
        neg = negative_photo(photo)
        index.shortlist(neg, top=1)  # fills index.last_votes for the negative descriptors
        chosen = negative_shortlist(pos_votes, index.last_votes, index.solid)
        found = {d.template for d in dets}
        chosen = [c for c in chosen if c[0] not in found]
        if chosen:
            negs = find_logos(_Shortlisted(index, chosen), neg, min_similarity=min_similarity, top=len(chosen),
                              below=below)
            for d in negs:
                d.parts["negative"] = 1
            dets = dets + negs
    if COARSE_PASS and below:
        found = {d.template for d in dets}
        for d in sorted(below, key=lambda d: -d.score):
            if d.template not in found and coarse_rescue(d, index.templates[d.template], photo,
                                                          min_similarity=min_similarity) is not None:
                dets.append(d)
                found.add(d.template)
    return suppress_overlaps(dets)


# ---------------------------------------------------------------- coarse-scale second reading
#
# The dense check compares edge orientation at the scale of a letter's stroke (sigma 1.2 canonical
# px). On real photos of woven, embroidered, embossed or glossy logos, fine texture, thread edges
# and highlights add orientation energy at that scale that the registered logo does not have, and a
# placement that keypoints agree on (12-45 consistent points) scores 0.3-0.55. At a coarser scale
# (both orientation fields smoothed to sigma 3) the texture's random orientations average out and
# the logo's own long edges remain. Measured on the three FlickrLogos-27 sets (docs/matching-logo.md):
# true placements under the fine threshold read 0.62-0.81 coarse; every placement of a wrong logo
# (other brands' photos, unrelated scenes) reads <= 0.35. The coarse reading is taken only where
# geometry already agrees (COARSE_INLIERS) and the fine reading is not far off (COARSE_FLOOR); a
# logo registered as clean artwork must still pass the fine outline and local checks: its outline is
# a designed shape (a photo crop's is only where the crop differs from its border colour) and its
# one-letter twins fail the local check (matcher.logo_features.local_agreement). Without that, the
# 1,000-logo synthetic bench let 6 same-letters-other-shape distractors through (precision
# 0.967 -> 0.908).

COARSE_PASS = True
COARSE_FLOOR = 0.2       # fine similarity under which no second reading is taken
COARSE_INLIERS = 12      # geometrically consistent keypoints a placement needs for a second reading
COARSE_SIGMA = 3.0       # canonical px: about a letter stroke's width (the fine check uses 1.2)
COARSE_MIN = 0.65        # coarse similarity (same combination as the fine one) to accept
COARSE_OUTLINE = 0.45    # coarse agreement of the outline band
FINE_SIGMA = 1.2         # the orientation fields' own smoothing (matcher.logo_features._orient)
COARSE_QUICK_MARGIN = 0.08  # a quick reading this far under COARSE_MIN is not read in full


def coarse_scores(matrix: np.ndarray, t, photo, *, windows: bool = True) -> dict:
    """The logo/photo orientation-field agreement at the coarse scale: ``interior``, ``cell_min``,
    ``cell_2nd``, ``outline`` (zero-mean normalised correlations, -1..1), ``similarity`` (the
    fine check's combination: min(interior, mean of the 2 worst cells, worst cell + 0.15)) and
    ``local`` (:func:`_windows_low`; with ``windows=False`` only when similarity and outline pass,
    and a quick half-resolution reading that is clearly under ``COARSE_MIN`` is returned as it is,
    with ``quick=True``).

    ``matrix``: 3x3 logo canvas -> original photo pixels (a Detection's); the photo is sampled at
    its original resolution when kept (``photo.full``)."""
    import cv2

    from .logo_features import _orient, _regions, _zncc, as3x3

    H = as3x3(matrix)
    src = photo.full if photo.full is not None else photo.gray
    if photo.full is None:
        H = np.diag([photo.scale, photo.scale, 1.0]) @ H
    warped = cv2.warpPerspective(src, H, (t.width, t.height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REPLICATE)
    so = _orient(warped, sigma=COARSE_SIGMA)
    extra = float(np.sqrt(COARSE_SIGMA ** 2 - FINE_SIGMA ** 2))
    tor = cv2.GaussianBlur(t.orient.astype(np.float32), (0, 0), extra)
    region, interior, cells = _regions(t)
    if not windows:
        # a quick look first: the same combination on every other pixel each way (a quarter of the
        # cost, within ~0.02 of the full reading); clear rejects stop here
        q = 2
        tq, sq, iq = tor[::q, ::q], so[::q, ::q], interior[::q, ::q]
        zs = sorted(_zncc(tq[a][iq[a]], sq[a][iq[a]]) for a in
                    ((slice(ys.start // q, -(-ys.stop // q)), slice(xs.start // q, -(-xs.stop // q)))
                     for ys, xs in cells) if iq[a].sum() >= 5)
        zi = _zncc(tq[iq], sq[iq]) if iq.sum() >= 12 else 0.0
        quick = min(zi, (zs[0] + zs[min(1, len(zs) - 1)]) / 2, zs[0] + 0.15) if zs else zi
        if quick < COARSE_MIN - COARSE_QUICK_MARGIN:
            return {"interior": zi, "cell_min": zs[0] if zs else zi, "cell_2nd": zs[min(1, len(zs) - 1)] if zs else zi,
                    "outline": 0.0, "similarity": quick, "quick": True}
    out = {"interior": _zncc(tor[interior], so[interior]) if interior.sum() >= 50 else 0.0}
    cz = sorted(_zncc(tor[c][interior[c]], so[c][interior[c]]) for c in cells if interior[c].sum() >= 20)
    out["cell_min"] = cz[0] if cz else out["interior"]
    out["cell_2nd"] = cz[1] if len(cz) > 1 else out["cell_min"]
    band = region & ~interior
    out["outline"] = _zncc(tor[band], so[band]) if band.sum() >= 50 else out["interior"]
    out["similarity"] = min(out["interior"], (out["cell_min"] + out["cell_2nd"]) / 2, out["cell_min"] + 0.15)
    if windows or (out["similarity"] >= COARSE_MIN and out["outline"] >= COARSE_OUTLINE):
        out["local"] = _windows_low(tor, so, interior)  # the costliest part: only when it can decide
    return out


def _windows_low(tor: np.ndarray, so: np.ndarray, interior: np.ndarray) -> float:
    """The ``COARSE_LOCAL_PCT`` percentile of the orientation fields' correlation in every
    ``COARSE_WIN`` window of the interior where the logo has edges (-1..1; 1.0 when no window
    qualifies): a changed part of the design correlates poorly in its windows even when the
    whole and the grid cells agree."""
    from .logo_features import window_correlation

    n, z, te, _se = window_correlation(tor, so, interior.astype(np.float32), COARSE_WIN)
    ok = interior & (n >= 0.5 * COARSE_WIN * COARSE_WIN)
    if ok.sum() < 10:
        return 1.0
    ok &= te > 0.8 * float(np.median(te[ok]))
    if ok.sum() < 10:
        return 1.0
    return float(np.percentile(z[ok], COARSE_LOCAL_PCT))


COARSE_WIN = 41          # canonical px: about a letter (the fine local check uses 31)
COARSE_LOCAL_PCT = 5.0   # percentile of the window correlations taken as the weakest part
COARSE_LOCAL_MIN = 0.55  # ... which must reach this


def coarse_rescue(d: "Detection", t, photo, *, min_similarity: float) -> "Detection | None":
    """``d`` (a placement the fine check scored under ``min_similarity``) accepted on its coarse
    reading, or None. Accepted only with ``COARSE_INLIERS`` consistent keypoints (not a shape
    placement), fine similarity >= ``COARSE_FLOOR``, coarse similarity >= ``COARSE_MIN`` and coarse
    outline >= ``COARSE_OUTLINE`` and coarse window percentile >= ``COARSE_LOCAL_MIN``; for artwork
    logos the fine outline and local checks must pass as well (see the comment above). The reported
    similarity is ``min_similarity + (coarse - COARSE_MIN) / 2`` (0.60-0.77): such a lead
    ranks under the clear ones. ``parts["coarse"]`` keeps the coarse similarity."""
    if not COARSE_PASS or d.inliers < COARSE_INLIERS or d.transform == "shape" or d.score < COARSE_FLOOR:
        return None
    artwork = bool(t.meta.get("artwork"))
    # clean artwork: its outline is the designed shape, and the fine reading of it is reliable (the
    # same letters in a disc instead of a rounded square agree at 0.39-0.50 fine, 0.52-0.65 coarse)
    if artwork and d.parts.get("outline", 0.0) < d.parts.get("outline_min", 0.5):
        return None
    c = coarse_scores(d.matrix, t, photo, windows=False)  # cheapest tests first
    if c["similarity"] < COARSE_MIN or c["outline"] < COARSE_OUTLINE or c.get("local", -1.0) < COARSE_LOCAL_MIN:
        return None
    if artwork:  # ... and its fine local check must pass (one-letter twins fail it)
        from .logo_features import LOCAL_SLACK, local_agreement

        loc = local_agreement(d, t, photo)  # not taken by find_logos under min_similarity
        if loc is not None:
            d.parts["local"] = round(loc, 3)
            if loc + LOCAL_SLACK < min_similarity:
                return None
    d.parts["fine"] = round(d.score, 3)
    d.parts["coarse"] = round(c["similarity"], 3)
    d.parts["coarse_local"] = round(c["local"], 3)
    d.score = min_similarity + (c["similarity"] - COARSE_MIN) / 2
    return d


# ---------------------------------------------------------------- logos of thin pieces

THIN_CELL_SHARE = 0.3  # a cell counts when it holds this share of its fair part of the interior ...
THIN_CELL_ENERGY = 0.5  # ... and this share of the interior's mean edge energy
THIN_CELL_MIN_PIXELS = 20  # what dense_scores needs to score a cell at all


def thin_design_cells(interior: np.ndarray, structure: np.ndarray,
                      grid: tuple[int, int] = (3, 3)) -> list[tuple[slice, slice]]:
    """Grid cells (row slice, column slice) of a logo's interior for a design made of thin pieces.

    The dense check (:func:`matcher.logo_features.dense_scores`) scores a logo by its worst grid
    cells, and a cell counts only when the interior covers 30 % of it. A design drawn in thin
    strokes (the Citroen double chevron over thin letters: the eroded interior covers ~5 % of its
    box) fills no cell at all; its worst-cell score was then 0 and the logo could never be found,
    whatever the photo (60 geometrically consistent keypoints, interior correlation 0.97). Here a
    cell counts when it holds ``THIN_CELL_SHARE`` of the interior pixels an even spread would give
    it and has edge detail, so such a logo is held to every part agreeing like any other.

    ``interior``: bool (h, w); ``structure``: float (h, w) edge magnitude of the logo; returns []
    when fewer than two cells qualify."""
    ys, xs = np.nonzero(interior)
    if len(xs) == 0:
        return []
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    density = len(xs) / float((x1 - x0) * (y1 - y0))
    struct = structure.astype(np.float32)
    energy = float(struct[interior].mean())
    if energy <= 1e-6:
        return []
    cells = []
    for gy in range(grid[1]):
        for gx in range(grid[0]):
            cx0, cx1 = x0 + (x1 - x0) * gx // grid[0], x0 + (x1 - x0) * (gx + 1) // grid[0]
            cy0, cy1 = y0 + (y1 - y0) * gy // grid[1], y0 + (y1 - y0) * (gy + 1) // grid[1]
            c = interior[cy0:cy1, cx0:cx1]
            n = int(c.sum())
            if n < max(THIN_CELL_MIN_PIXELS, THIN_CELL_SHARE * density * c.size):
                continue
            if struct[cy0:cy1, cx0:cx1][c].mean() < THIN_CELL_ENERGY * energy:
                continue
            cells.append((slice(cy0, cy1), slice(cx0, cx1)))
    return cells if len(cells) >= 2 else []
