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
    the negative pass carry ``parts["negative"] = 1`` (for evidence and tuning)."""
    from .logo_features import find_logos, suppress_overlaps

    dets = find_logos(index, photo, min_similarity=min_similarity)
    pos_votes = getattr(index, "last_votes", None)
    if not NEGATIVE_PASS or len(photo.descriptors) == 0 or pos_votes is None:
        return dets
    pos_votes = pos_votes.copy()
    neg = negative_photo(photo)
    index.shortlist(neg, top=1)  # fills index.last_votes for the negative descriptors
    chosen = negative_shortlist(pos_votes, index.last_votes, index.solid)
    found = {d.template for d in dets}
    chosen = [c for c in chosen if c[0] not in found]
    if not chosen:
        return dets
    negs = find_logos(_Shortlisted(index, chosen), neg, min_similarity=min_similarity, top=len(chosen))
    for d in negs:
        d.parts["negative"] = 1
    return suppress_overlaps(dets + negs)
