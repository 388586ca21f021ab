"""Logo features: canonical logo templates, photo keypoints, a shared descriptor index, and
geometric + dense verification.

How a registered logo is found in a photo (see docs/matching-logo.md):

1. Each logo is put on a canonical canvas (cropped to its visible pixels, longest side
   ``CANON`` px) and rendered on white and on black, sharp and blurred, so that the same letters
   give matching descriptors whatever the photo behind a transparent logo and however soft the
   photo is. SIFT keypoints of all renderings of all logos go into one FLANN index.
2. A photo's SIFT descriptors are looked up in that index; every logo collects at most one vote
   per photo keypoint. The best-voted logos are shortlisted.
3. For each shortlisted logo, photo descriptors are matched to that logo's own descriptors and a
   similarity transform (rotation, uniform scale, shift) is fitted with RANSAC; transforms that are
   implausible (tiny, huge, strongly rotated, logo mostly outside the photo) are dropped.
4. Dense check: the photo is warped back onto the logo canvas and its edge structure compared with
   the logo's inside the logo's silhouette (zero-mean normalised correlation of gradient
   magnitudes: blind to recolouring and to light/dark inversion). A logo of the same outline with
   other letters shares the outline but not the letters, and scores low.

Pure: numpy + OpenCV, no store/crawler/web imports.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

# Bump when anything that changes stored features changes (invalidates the feature cache).
FEATURE_VERSION = 5

CANON = 160          # canonical longest side of a logo, px
PAD = 12             # transparent margin around the canonical logo, px
PHOTO_MAX = 400      # photos are downscaled so the longer side is at most this (SIFT doubles it internally)
PHOTO_MIN = 320      # ... and upscaled so it is at least this
MAX_KP_PER_RENDER = 60
MAX_KP_PHOTO = 1500
BLUR_SIGMA = 2.2     # the blurred renderings (at canonical size)


def _sift():
    # contrastThreshold a bit below the default: flat logo colours on flat backgrounds give weak corners
    return cv2.SIFT_create(contrastThreshold=0.03)


@dataclass
class LogoTemplate:
    """A registered logo prepared for matching (canonical frame: (w, h) pixels incl. padding)."""
    sha256: str
    width: int
    height: int
    mask: np.ndarray          # uint8 (h, w): 255 where the logo is visible
    structure: np.ndarray     # float16 (h, w): blurred gradient magnitude of the logo
    orient: np.ndarray        # float16 (h, w, 2): polarity-blind edge orientation field
    points: np.ndarray        # float32 (n, 2): keypoint positions on the canonical canvas
    descriptors: np.ndarray   # uint8 (n, 128) SIFT descriptors (small in memory; float32 in the index)
    phash: str = ""           # perceptual hash of the logo on white (near-duplicate registrations)
    meta: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(len(self.points))

    # --- serialisation for the feature cache ---
    def to_npz(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, mask=self.mask, structure=self.structure.astype(np.float16),
                            orient=self.orient.astype(np.float16),
                            points=self.points, descriptors=self.descriptors.astype(np.uint8),
                            meta=np.frombuffer(json.dumps({"sha256": self.sha256, "width": self.width,
                                                           "height": self.height, "phash": self.phash,
                                                           "version": FEATURE_VERSION, **self.meta}).encode(),
                                               dtype=np.uint8))
        return buf.getvalue()

    @classmethod
    def from_npz(cls, data: bytes) -> "LogoTemplate":
        z = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(bytes(z["meta"]).decode())
        if meta.pop("version", None) != FEATURE_VERSION:
            raise ValueError("stale feature version")
        return cls(sha256=meta.pop("sha256"), width=meta.pop("width"), height=meta.pop("height"),
                   mask=z["mask"], structure=z["structure"].astype(np.float16),
                   orient=z["orient"].astype(np.float16),
                   points=z["points"].astype(np.float32), descriptors=z["descriptors"].astype(np.uint8),
                   phash=meta.pop("phash", ""), meta=meta)


# ---------------------------------------------------------------- logo preparation

def _visible_mask(rgba: np.ndarray) -> np.ndarray:
    """Where the logo is: alpha when it has one, else pixels differing from the border colour."""
    alpha = rgba[:, :, 3]
    if alpha.min() < 250:
        return (alpha > 32).astype(np.uint8) * 255
    rgb = rgba[:, :, :3].astype(np.int16)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    bg = np.median(border, axis=0)
    diff = np.abs(rgb - bg).max(axis=2)
    m = (diff > 24).astype(np.uint8) * 255
    if m.mean() < 255 * 0.02:  # nothing stands out from the border: the whole image is the logo
        m[:] = 255
    return m


def _structure(gray: np.ndarray, sigma: float = 1.2) -> np.ndarray:
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy)
    return cv2.GaussianBlur(mag, (0, 0), sigma)


def _orient(gray: np.ndarray, sigma: float = 1.2) -> np.ndarray:
    """Edge orientation field blind to light/dark polarity: m*(cos 2a, sin 2a), blurred. (h, w, 2)."""
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    m = cv2.magnitude(gx, gy) + 1e-3
    f = np.dstack([(gx * gx - gy * gy) / m, (2 * gx * gy) / m])
    return cv2.GaussianBlur(f, (0, 0), sigma)


def canonical_logo(img: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """RGBA array of the logo cropped to its visible pixels, scaled to CANON, padded; and its mask."""
    rgba = np.asarray(img.convert("RGBA"), dtype=np.uint8)
    mask = _visible_mask(rgba)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise ValueError("the logo image has no visible pixels")
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    rgba = rgba[y0:y1, x0:x1].copy()
    mask = mask[y0:y1, x0:x1]
    if rgba[:, :, 3].min() >= 250:  # opaque logo: make what is not the logo transparent
        rgba[:, :, 3] = mask
    h, w = mask.shape
    s = CANON / max(h, w)
    nw, nh = max(8, round(w * s)), max(8, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    rgba = cv2.resize(rgba, (nw, nh), interpolation=interp)
    rgba = cv2.copyMakeBorder(rgba, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    mask = (rgba[:, :, 3] > 32).astype(np.uint8) * 255
    return rgba, mask


def _on(rgba: np.ndarray, level: int) -> np.ndarray:
    a = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32) * a + level * (1 - a)
    return cv2.cvtColor(rgb.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def logo_renderings(rgba: np.ndarray) -> list[np.ndarray]:
    """Grey renderings whose keypoints are indexed: on white, on black, inverted, and blurred."""
    outs = []
    for level in (255, 0):
        g = _on(rgba, level)
        outs.append(g)
        outs.append(cv2.GaussianBlur(g, (0, 0), BLUR_SIGMA))
    return outs


def _detect(sift, gray: np.ndarray, cap: int):
    kps, desc = sift.detectAndCompute(gray, None)
    if desc is None or not kps:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    if len(kps) > cap:
        order = np.argsort([-k.response for k in kps])[:cap]
        kps = [kps[i] for i in order]
        desc = desc[order]
    pts = np.array([k.pt for k in kps], np.float32)
    return pts, desc.astype(np.float32)


def prepare_logo(img: Image.Image, sha256: str = "") -> LogoTemplate:
    """Build the matching template of one logo image (PIL, any mode)."""
    import imagehash

    rgba, mask = canonical_logo(img)
    sift = _sift()
    pts, descs = [], []
    for g in logo_renderings(rgba):
        p, d = _detect(sift, g, MAX_KP_PER_RENDER)
        pts.append(p)
        descs.append(d)
    points = np.concatenate(pts) if pts else np.zeros((0, 2), np.float32)
    descriptors = np.concatenate(descs) if descs else np.zeros((0, 128), np.float32)
    # Structure: edges of the logo on white and on black (its outline exists on any background).
    st = np.maximum(_structure(_on(rgba, 255)), _structure(_on(rgba, 0)))
    orient = _orient(_on(rgba, 255)) + _orient(_on(rgba, 0))
    white = Image.fromarray(_on(rgba, 255))
    return LogoTemplate(sha256=sha256 or hashlib.sha256(rgba.tobytes()).hexdigest(),
                        width=int(rgba.shape[1]), height=int(rgba.shape[0]), mask=mask,
                        structure=st.astype(np.float16), orient=orient.astype(np.float16), points=points,
                        descriptors=np.clip(np.rint(descriptors), 0, 255).astype(np.uint8),
                        phash=str(imagehash.phash(white)))


# ---------------------------------------------------------------- photos

@dataclass
class PhotoFeatures:
    gray: np.ndarray      # the (rescaled) grey photo
    scale: float          # photo pixels = original pixels * scale
    points: np.ndarray    # (n, 2) float32
    descriptors: np.ndarray  # (n, 128) float32
    structure: np.ndarray | None = None


def photo_features(rgb_or_gray: np.ndarray, sift=None) -> PhotoFeatures:
    g = rgb_or_gray if rgb_or_gray.ndim == 2 else cv2.cvtColor(rgb_or_gray, cv2.COLOR_RGB2GRAY)
    h, w = g.shape
    s = 1.0
    if max(h, w) > PHOTO_MAX:
        s = PHOTO_MAX / max(h, w)
    elif max(h, w) < PHOTO_MIN:
        s = PHOTO_MIN / max(h, w)
    if s != 1.0:
        g = cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))),
                       interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    pts, desc = _detect(sift or _sift(), g, MAX_KP_PHOTO)
    return PhotoFeatures(gray=g, scale=s, points=pts, descriptors=desc)


# ---------------------------------------------------------------- the index

class LogoIndex:
    """One descriptor index over all registered logos: votes per logo, then verification."""

    def __init__(self, templates: list[LogoTemplate], trees: int = 4, checks: int = 48, knn: int = 8):
        self.templates = templates
        self.knn = knn
        self.checks = checks
        descs = [t.descriptors.astype(np.float32) for t in templates]
        owners = [np.full(len(t.descriptors), i, np.int32) for i, t in enumerate(templates)]
        self.owner = np.concatenate(owners) if owners else np.zeros(0, np.int32)
        self.n = int(len(self.owner))
        self.flann = None
        if self.n:
            data = np.ascontiguousarray(np.concatenate(descs), dtype=np.float32)
            self._data = data
            self.flann = cv2.flann_Index(data, dict(algorithm=1, trees=trees))

    def shortlist(self, photo: PhotoFeatures, top: int = 10, min_votes: int = 3) -> list[tuple[int, int]]:
        """(template index, votes) of the best-voted logos."""
        if self.flann is None or len(photo.descriptors) == 0:
            return []
        k = min(self.knn, self.n)
        idx, _dist = self.flann.knnSearch(photo.descriptors, k, params=dict(checks=self.checks))
        own = self.owner[idx]  # (q, k)
        # one vote per (photo keypoint, logo)
        q = np.repeat(np.arange(len(own)), own.shape[1])
        pairs = np.unique(q.astype(np.int64) * (len(self.templates) + 1) + own.reshape(-1))
        logos = pairs % (len(self.templates) + 1)
        votes = np.bincount(logos, minlength=len(self.templates))
        order = np.argsort(-votes)[:top]
        return [(int(i), int(votes[i])) for i in order if votes[i] >= min_votes]


# ---------------------------------------------------------------- verification

@dataclass
class Detection:
    template: int
    score: float          # dense similarity (0-1)
    inliers: int
    votes: int
    matrix: np.ndarray    # 2x3, canonical logo -> original photo pixels
    bbox: list[int]       # x, y, w, h in original photo pixels
    angle: float          # degrees, counter-clockwise as seen in the photo
    rel_width: float      # logo width / photo width
    parts: dict = field(default_factory=dict)  # the dense similarity's components

    def to_evidence(self) -> dict:
        return {"bbox": self.bbox, "inliers": self.inliers, "similarity": round(self.score, 3),
                "angle": round(self.angle, 1), "rel_width": round(self.rel_width, 3)}


MIN_INLIERS = 5
MIN_SIMILARITY = 0.6    # combined edge similarity a logo must reach to be reported
MIN_OUTLINE = 0.45      # the logo's outline band must agree at least this well
ECC_RANGE = (0.2, 0.85)  # refine the alignment only when the first similarity is in between


def _bf_matches(photo: PhotoFeatures, t: LogoTemplate, max_dist: float = 330.0):
    """Photo <-> one logo correspondences: each photo keypoint's two nearest logo descriptors."""
    if len(t.descriptors) == 0 or len(photo.descriptors) == 0:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    bf = cv2.BFMatcher(cv2.NORM_L2)
    ms = bf.knnMatch(photo.descriptors, t.descriptors.astype(np.float32), k=2)
    src, dst = [], []
    for row in ms:
        for m in row:
            if m.distance < max_dist:
                src.append(t.points[m.trainIdx])
                dst.append(photo.points[m.queryIdx])
    if not src:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    return np.array(src, np.float32), np.array(dst, np.float32)


def _plausible(M: np.ndarray, t: LogoTemplate, photo: PhotoFeatures, max_angle: float) -> tuple[bool, float, float]:
    a, b = M[0, 0], M[1, 0]
    s = math.hypot(a, b)
    angle = math.degrees(math.atan2(b, a))
    h, w = photo.gray.shape
    logo_w = s * (t.width - 2 * PAD)
    rel = logo_w / max(w, h)
    if not (0.05 <= rel <= 1.2) or abs(angle) > max_angle:
        return False, angle, rel
    # most of the logo must lie inside the photo
    corners = np.array([[PAD, PAD], [t.width - PAD, PAD], [t.width - PAD, t.height - PAD], [PAD, t.height - PAD]],
                       np.float32)
    pc = corners @ M[:, :2].T + M[:, 2]
    cx = pc[:, 0].clip(0, w)
    cy = pc[:, 1].clip(0, h)
    area = cv2.contourArea(pc.astype(np.float32))
    inside = cv2.contourArea(np.stack([cx, cy], 1).astype(np.float32))
    if area <= 0 or inside / area < 0.7:
        return False, angle, rel
    return True, angle, rel


def _photo_structure(photo: PhotoFeatures) -> np.ndarray:
    if photo.structure is None:
        photo.structure = _structure(photo.gray, sigma=0.8)
    return photo.structure


def _zncc(a: np.ndarray, b: np.ndarray) -> float:
    """Zero-mean normalised correlation of two samples (n,) or (n, channels)."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0


def _regions(t: LogoTemplate) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(whole region, interior, grid cells of the interior) on the logo canvas, computed once."""
    cached = getattr(t, "_regions_cache", None)
    if cached is not None:
        return cached
    region = cv2.dilate(t.mask, np.ones((7, 7), np.uint8)) > 0
    # silhouette: the outer contours filled (rings and letters' counters included)
    cs, _ = cv2.findContours(t.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    sil = np.zeros_like(t.mask)
    cv2.drawContours(sil, cs, -1, 255, thickness=cv2.FILLED)
    k = max(3, int(round(0.07 * CANON)) | 1)
    interior = cv2.erode(sil, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    if interior.sum() < 0.1 * (sil > 0).sum():
        interior = sil > 0
    # transparent holes (a ring's inside) show whatever is behind the logo: compare only near strokes
    interior &= region
    ys, xs = np.nonzero(interior)
    cells = []
    if len(xs):
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        struct = t.structure.astype(np.float32)
        energy = struct[interior].mean()
        if energy <= 1e-6:
            xs = xs[:0]
        for gy in range(GRID[1] if len(xs) else 0):
            for gx in range(GRID[0]):
                cx0 = x0 + (x1 - x0) * gx // GRID[0]
                cx1 = x0 + (x1 - x0) * (gx + 1) // GRID[0]
                cy0 = y0 + (y1 - y0) * gy // GRID[1]
                cy1 = y0 + (y1 - y0) * (gy + 1) // GRID[1]
                c = interior[cy0:cy1, cx0:cx1]
                if c.sum() < 0.3 * (cx1 - cx0) * (cy1 - cy0):
                    continue
                if struct[cy0:cy1, cx0:cx1][c].mean() < 0.5 * energy:
                    continue  # flat part of the logo: nothing to compare
                cells.append((slice(cy0, cy1), slice(cx0, cx1)))
    t._regions_cache = (region, interior, cells)
    return t._regions_cache


GRID = (3, 3)


def inner_detail(t: LogoTemplate) -> float:
    """Edge energy inside the outline relative to the outline's own: ~0 for a plain shape."""
    region, interior, _ = _regions(t)
    band = region & ~interior
    st = t.structure.astype(np.float32)
    b = float(st[band].mean()) if band.any() else 0.0
    return float(st[interior].mean()) / b if b > 1e-6 and interior.any() else 0.0


def dense_scores(M: np.ndarray, t: LogoTemplate, photo: PhotoFeatures) -> dict:
    """Edge-structure agreement between the logo and the photo warped onto the logo canvas.

    Compared: polarity-blind edge orientation fields (so recolouring and light/dark inversion do
    not matter). interior: inside the outline (what a same-outline logo does not share); cells:
    the two worst grid cells of the interior (one wrong letter spoils its cells even when the
    other letter matches); outline: the band along the logo's silhouette (a logo of another shape
    with the same letters fails there).
    """
    inv = cv2.invertAffineTransform(M)
    warped = cv2.warpAffine(photo.gray, inv, (t.width, t.height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    valid = cv2.warpAffine(np.full(photo.gray.shape, 255, np.uint8), inv, (t.width, t.height),
                           flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    so = _orient(warped, sigma=1.2)
    region, interior, cells = _regions(t)
    ok = cv2.erode(valid, np.ones((5, 5), np.uint8)) > 0
    out = {"interior": 0.0, "cell_min": 0.0, "cell_2nd": 0.0, "outline": 0.0}
    i = interior & ok
    if i.sum() < 50:
        return out
    tor = t.orient.astype(np.float32)
    out["interior"] = _zncc(tor[i], so[i])
    band = region & ok & ~interior
    out["outline"] = _zncc(tor[band], so[band]) if band.sum() >= 50 else 0.0
    cm = [(tor[c], so[c], i[c]) for c in cells]  # cell crops and what is comparable in them
    cz = sorted(_zncc(a[m], b[m]) if m.sum() >= 20 else 0.0 for a, b, m in cm)
    if cz:
        out["cell_min"] = cz[0]
        out["cell_2nd"] = cz[1] if len(cz) > 1 else cz[0]
    # contrast-blind agreement: photo orientations as unit vectors, weighted by the logo's edges
    mag = np.sqrt((so * so).sum(axis=2))
    eps = 0.15 * float(np.percentile(mag[i], 90)) + 1e-3
    sn = so / (mag + eps)[:, :, None]

    def agree(a, b, m):
        w = np.sqrt((a[m] ** 2).sum(axis=1)).sum()
        return float((a[m] * b[m]).sum() / w) if w > 1e-6 else 0.0

    out["a_interior"] = agree(tor, sn, i)
    az = sorted(agree(tor[c], sn[c], i[c]) for c in cells if i[c].sum() >= 20)
    out["a_cell_min"] = az[0] if az else 0.0
    out["a_cell_2nd"] = (az[1] if len(az) > 1 else az[0]) if az else 0.0
    return out


def dense_similarity(M: np.ndarray, t: LogoTemplate, photo: PhotoFeatures) -> float:
    s = dense_scores(M, t, photo)
    return combine(s)


def combine(s: dict) -> float:
    """One similarity: the letters/inner design must match as a whole and in its worst parts, and
    the outline must be there too (else a logo of other shape with the same letters would pass).

    Two readings of "match" are computed and the better one kept: correlation of the orientation
    fields (robust to clutter behind transparent parts) and contrast-blind agreement of edge
    directions (robust to low-contrast recolouring)."""
    corr = min(s["interior"], (s["cell_min"] + s["cell_2nd"]) / 2)
    agree = min(s.get("a_interior", 0.0), (s.get("a_cell_min", 0.0) + s.get("a_cell_2nd", 0.0)) / 2)
    sim = max(corr, agree)
    if s["outline"] < MIN_OUTLINE:
        sim = min(sim, s["outline"])
    return sim


def refine(M: np.ndarray, t: LogoTemplate, photo: PhotoFeatures, iters: int = 40) -> np.ndarray:
    """Sharpen a RANSAC similarity with ECC on edge structure (keeps M if ECC fails)."""
    inv = cv2.invertAffineTransform(M).astype(np.float32)
    try:
        st = _photo_structure(photo)
        _, warp = cv2.findTransformECC(t.structure.astype(np.float32), st, inv, cv2.MOTION_AFFINE,
                                       (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iters, 1e-4),
                                       None, 3)
        newM = cv2.invertAffineTransform(warp)
        # reject refinements that wander off (more than a quarter of the logo)
        c = np.array([t.width / 2, t.height / 2, 1.0])
        if np.linalg.norm(newM @ c - M @ c) > 0.25 * math.hypot(M[0, 0], M[1, 0]) * t.width:
            return M
        return newM
    except cv2.error:
        return M


def verify(photo: PhotoFeatures, t: LogoTemplate, ti: int, votes: int, *, max_angle: float = 40.0,
           min_inliers: int = MIN_INLIERS, use_ecc: bool = True) -> Detection | None:
    src, dst = _bf_matches(photo, t)
    if len(src) < min_inliers:
        return None
    h, w = photo.gray.shape
    thr = max(3.0, 0.008 * max(h, w))
    M, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=thr,
                                         maxIters=3000, confidence=0.995, refineIters=10)
    if M is None or inl is None:
        return None
    n_in = int(inl.sum())
    if n_in < min_inliers:
        return None
    ok, angle, rel = _plausible(M, t, photo, max_angle)
    if not ok:
        return None
    parts = dense_scores(M, t, photo)
    sim = combine(parts)
    if use_ecc and ECC_RANGE[0] <= sim < ECC_RANGE[1]:  # clear rejects and clear hits need no refinement
        M2 = refine(M, t, photo)
        if M2 is not M:
            ok2, angle2, rel2 = _plausible(M2, t, photo, max_angle)
            parts2 = dense_scores(M2, t, photo) if ok2 else None
            if parts2 is not None and combine(parts2) > sim:
                M, sim, angle, rel, parts = M2, combine(parts2), angle2, rel2, parts2
    # back to original photo pixels
    Mo = M.copy()
    Mo /= photo.scale
    corners = np.array([[PAD, PAD], [t.width - PAD, PAD], [t.width - PAD, t.height - PAD], [PAD, t.height - PAD]],
                       np.float32)
    pc = corners @ Mo[:, :2].T + Mo[:, 2]
    x0, y0 = pc.min(0)
    x1, y1 = pc.max(0)
    H, W = round(h / photo.scale), round(w / photo.scale)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(W, int(math.ceil(x1))), min(H, int(math.ceil(y1)))
    return Detection(template=ti, score=sim, inliers=n_in, votes=votes, matrix=Mo,
                     bbox=[x0, y0, x1 - x0, y1 - y0], angle=-angle, rel_width=rel,
                     parts={k: round(v, 3) for k, v in parts.items()})


def shortlist_size(n_logos: int) -> int:
    """How many best-voted logos are verified per photo."""
    return 10  # measured: 10 + n/400 bought +1 point of recall at 5 000 logos for 30 % more time


def find_logos(index: LogoIndex, photo: PhotoFeatures, *, top: int | None = None,
               min_similarity: float = MIN_SIMILARITY, candidates: list[int] | None = None) -> list[Detection]:
    """Every registered logo verified in the photo (best first), above ``min_similarity``."""
    out = []
    short = index.shortlist(photo, top=top or shortlist_size(len(index.templates)))
    if candidates is not None:
        allowed = set(candidates)
        short = [(i, v) for i, v in short if i in allowed]
    for ti, votes in short:
        d = verify(photo, index.templates[ti], ti, votes)
        if d is not None and d.score >= min_similarity:
            out.append(d)
    return suppress_overlaps(out)


def _iou(a: list[int], b: list[int]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def suppress_overlaps(dets: list[Detection], iou: float = 0.3) -> list[Detection]:
    """One place in a photo shows one logo: of overlapping detections keep the most similar."""
    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(_iou(d.bbox, k.bbox) < iou for k in kept):
            kept.append(d)
    return kept


def debug_candidates(index: LogoIndex, photo: PhotoFeatures, top: int = 10) -> list[tuple]:
    """(template, votes, detection-or-None) for the shortlist, unfiltered (for tuning and tests)."""
    res = []
    for ti, votes in index.shortlist(photo, top=top):
        res.append((ti, votes, verify(photo, index.templates[ti], ti, votes)))
    return res


def env_threads() -> None:
    """Respect MARKWATCH_CV_THREADS (e.g. 1 to leave the other core to OCR)."""
    from config.settings import get_settings

    n = get_settings().crawl.cv_threads
    if n:
        cv2.setNumThreads(n)
