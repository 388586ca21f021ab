"""Logo matcher: registered logo marks found inside listing images.

``LogoMatcher(watchlist, cache_dir=None).match(ctx) -> list[Match]``.

Per listing: logos are gated on goods class first (well-known logos are protected across
classes; otherwise the mark's Nice classes must meet the listing's), so images of listings no
eligible logo could concern are not even decoded. Each image is loaded safely
(:mod:`matcher.images`: corrupt, oversized, bomb-like or not-yet-downloaded images are skipped
with a reason, never abort the run), analysed once per content hash, and searched for every
registered logo (:mod:`matcher.logo_features`). A found logo gives a Match whose reasons say where
(image, box, rotation, size) and how sure (edge similarity, keypoints), with the box in evidence
for :func:`matcher.logo_draw.draw_detection`.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from watchlist.model import Watchlist

from .goods import registered_classes
from .images import ImageRejected, open_image_with_hash
from .logo_cache import FeatureCache, LogoProblem, load_template
from .logo_photo import find_logos_any_polarity
from .logo_store import LogoStore
from .logo_features import (MIN_SIMILARITY, Detection, LogoIndex, LogoTemplate, env_threads,
                            logo_corners, photo_features, project)
from .reasons import reason, render_all
from .types import Match, MatchContext

log = logging.getLogger(__name__)

MAX_IMAGES_PER_LISTING = 8
RESULT_CACHE = 4096  # photos (by content hash) whose detections are kept in memory


def logo_score(similarity: float) -> int:
    """Map the edge similarity (0-1) to a lead score: the acceptance threshold gives 60."""
    s = 60 + (similarity - MIN_SIMILARITY) * 100
    return int(max(0, min(99, round(s))))


@dataclass
class SkippedImage:
    listing_id: str
    image: str
    reason: str
    reason_zh: str


class LogoMatcher:
    def __init__(self, watchlist: Watchlist, cache_dir=None, *, min_similarity: float = MIN_SIMILARITY,
                 max_images: int = MAX_IMAGES_PER_LISTING, store_dir=None, language: str = "zh-CN"):
        """``cache_dir``: feature cache (``<data_dir>/cache``); ``store_dir``: the data directory whose
        ``logos/`` keeps copies of registered logos (default: the parent of ``cache_dir``)."""
        env_threads()
        self.language = language
        self.min_similarity = min_similarity
        self.max_images = max_images
        self.cache = FeatureCache(cache_dir)
        self.problems: dict[str, str] = {}      # mark id -> why it is not matched
        self.skipped: list[SkippedImage] = []   # images that could not be analysed
        self.images_analysed = 0
        templates: list[LogoTemplate] = []
        by_sha: dict[str, int] = {}
        self.marks_of: list[list] = []          # template index -> [(enterprise, mark)]
        self.notes: dict[str, str] = {}         # mark id -> something an officer should know
        if store_dir is None and cache_dir is not None:
            store_dir = Path(cache_dir).parent
        self.store = LogoStore(store_dir) if store_dir is not None else None
        for ent, mark in watchlist.logo_marks():
            path = watchlist.logo_path(mark)
            try:
                if self.store is not None and not Path(path).is_file():
                    copy = self.store.lookup(mark.id)
                    if copy is not None:
                        self.notes[mark.id] = f"{path} is missing: using the copy stored at registration ({copy.name})"
                        log.warning("logo %s: %s", mark.id, self.notes[mark.id])
                        path = copy
                t = load_template(path, self.cache)
                if self.store is not None and path == watchlist.logo_path(mark):
                    self.store.put(path, mark.id, sha256=t.sha256, save=False)
            except LogoProblem as e:
                self.problems[mark.id] = str(e)
                log.warning("logo %s not used: %s", mark.id, e)
                continue
            i = by_sha.get(t.sha256)
            if i is None:
                i = by_sha[t.sha256] = len(templates)
                templates.append(t)
                self.marks_of.append([])
            self.marks_of[i].append((ent, mark))
        if self.store is not None:
            self.store.save()
        self.index = LogoIndex(templates)
        self._results: OrderedDict[str, list[Detection]] = OrderedDict()

    @property
    def templates(self) -> list[LogoTemplate]:
        return self.index.templates

    # ------------------------------------------------------------------ per image
    def detect_file(self, path: str) -> tuple[list[Detection], str]:
        """Detections of every registered logo in one image file, and the file's SHA-256.

        Raises ImageRejected for images that cannot be analysed.
        """
        img, sha = open_image_with_hash(path, mode="L")
        hit = self._results.get(sha)
        if hit is not None:
            self._results.move_to_end(sha)
            return hit, sha
        photo = photo_features(np.asarray(img, dtype=np.uint8))
        # the photo as it is and in negative: a logo printed light on dark (matcher/logo_photo.py)
        dets = find_logos_any_polarity(self.index, photo, min_similarity=self.min_similarity)
        self.images_analysed += 1
        self._results[sha] = dets
        if len(self._results) > RESULT_CACHE:
            self._results.popitem(last=False)
        return dets, sha

    # ------------------------------------------------------------------ per listing
    def _eligible(self, mark, goods: frozenset[int]) -> bool:
        return bool(mark.well_known or goods & registered_classes(mark))

    def match(self, ctx: MatchContext) -> list[Match]:
        listing = ctx.listing
        if not listing.images or not self.templates:
            return []
        eligible = {i for i, marks in enumerate(self.marks_of)
                    if any(self._eligible(m, ctx.goods_classes) for _, m in marks)}
        if not eligible:
            return []
        best: dict[str, Match] = {}
        for n, ref in enumerate(listing.images[: self.max_images], 1):
            path = listing.image_path(ref)
            try:
                dets, sha = self.detect_file(path)
            except ImageRejected as e:
                self.skipped.append(SkippedImage(listing.listing_id, ref, e.reason, e.reason_zh))
                log.info("listing %s image %s skipped: %s", listing.listing_id, ref, e)
                continue
            except Exception as e:  # never let one odd image stop a run
                self.skipped.append(SkippedImage(listing.listing_id, ref, "analysis_failed", "图片分析失败"))
                log.warning("listing %s image %s: logo analysis failed: %s: %s", listing.listing_id, ref,
                            type(e).__name__, e)
                continue
            for d in dets:
                if d.template not in eligible:
                    continue
                for ent, mark in self.marks_of[d.template]:
                    if not self._eligible(mark, ctx.goods_classes):
                        continue
                    m = self._to_match(ctx, ent, mark, d, ref, n, sha)
                    cur = best.get(mark.id)
                    if cur is None or m.score > cur.score:
                        best[mark.id] = m
        return list(best.values())

    def _to_match(self, ctx: MatchContext, ent, mark, d: Detection, ref: str, n: int, sha: str) -> Match:
        x, y, w, h = d.bbox
        t = self.templates[d.template]
        quad = quad_of(d, t)
        codes = [reason("logo_found", image_n=n, mark=mark.id, holder=ent.name, x=x, y=y, w=w, h=h,
                        pct=round(d.rel_width * 100), rot=abs(round(d.angle)), transform=d.transform,
                        similarity=round(d.score, 2), inliers=d.inliers)]
        if mark.well_known:
            codes.append(reason("logo_well_known"))
        else:
            codes.append(reason("logo_class", classes=sorted(ctx.goods_classes & registered_classes(mark))))
        reasons, reasons_en = render_all(codes, self.language), render_all(codes, "en")
        evidence = {"field": "image", "image": ref, "image_sha256": sha, "bbox": [x, y, w, h], "quad": quad,
                    "angle": round(d.angle, 1), "similarity": round(d.score, 3), "inliers": d.inliers,
                    "rel_width": round(d.rel_width, 3), "logo_sha256": t.sha256, "transform": d.transform,
                    "reason_codes": codes, "reasons_en": reasons_en}
        return Match(ctx.listing.listing_id, ctx.listing.platform, mark.id, "logo", logo_score(d.score),
                     reasons, evidence)


def quad_of(d: Detection, t: LogoTemplate) -> list[list[int]]:
    """The logo's (rotated) outline in original photo pixels: four corners, clockwise from top-left."""
    pc = project(d.matrix, logo_corners(t))
    return [[int(round(px)), int(round(py))] for px, py in pc]
