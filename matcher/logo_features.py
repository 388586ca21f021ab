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
FEATURE_VERSION = 8

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
    steady: np.ndarray | None = None  # uint8 (h, w): 255 where the logo's edges show on any background
    intrinsic: np.ndarray | None = None  # uint8 (h, w): 255 where an edge lies between two visible parts

    @property
    def n_features(self) -> int:
        return int(len(self.points))

    # --- serialisation for the feature cache ---
    def to_npz(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, mask=self.mask, structure=self.structure.astype(np.float16),
                            orient=self.orient.astype(np.float16),
                            steady=self.steady if self.steady is not None else np.full_like(self.mask, 255),
                            intrinsic=self.intrinsic if self.intrinsic is not None else np.full_like(self.mask, 255),
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
                   orient=z["orient"].astype(np.float16), steady=z["steady"], intrinsic=z["intrinsic"],
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


STEADY_EDGE = 0.3  # an edge shows on any background when its weaker rendering has this share of the stronger
ARTWORK_COLOUR_SHARE = 0.9  # share of visible pixels in the 6 main colours above which a logo is artwork


def is_artwork(img: Image.Image) -> bool:
    """True for clean logo artwork (flat colours, as drawn: PNG/SVG exports), False for a photo crop
    (lighting, texture, background of the photo it was cut from).

    Measured as the share of the logo's visible pixels that fall into its 6 most frequent colours
    (RGB quantised to bins of 24 levels): 0.97-1.0 for flat artwork, also after JPEG at quality 75;
    0.70-0.87 for the FlickrLogos-27 photo crops and OpenCV's box.png."""
    im = img.convert("RGBA")
    s = 256 / max(im.size)
    if s < 1:
        im = im.resize((max(1, round(im.size[0] * s)), max(1, round(im.size[1] * s))), Image.Resampling.NEAREST)
    a = np.asarray(im, dtype=np.uint8)
    m = _visible_mask(a) > 0
    if not m.any():
        return False
    q = a[..., :3][m].astype(np.int32) // 24
    _, counts = np.unique(q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2], return_counts=True)
    return float(np.sort(counts)[::-1][:6].sum() / m.sum()) >= ARTWORK_COLOUR_SHARE


def _filled(rgba: np.ndarray) -> np.ndarray:
    """Grey rendering of the logo with every transparent pixel given the colour of the nearest visible
    one: only edges between two visible parts of the logo remain (letters on a badge), not those
    between the logo and whatever shows through it (its outline, the gaps of a globe's meridians)."""
    vis = rgba[:, :, 3] >= 192  # resized edges are blended with transparent black: not a source colour
    if vis.all() or not vis.any():
        return _on(rgba, 255)
    _d, lab = cv2.distanceTransformWithLabels((~vis).astype(np.uint8), cv2.DIST_L2, 5,
                                              labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(vis)
    # labels number the visible pixels in row-major order (the zero pixels of the input)
    colours = np.zeros((len(xs) + 1, 4), np.uint8)
    colours[1:] = rgba[ys, xs]
    out = colours[lab]
    out[vis] = rgba[vis]
    out[:, :, 3] = 255
    return _on(out, 255)


INTRINSIC_EDGE = 0.3  # an edge is intrinsic when it keeps this share of its strength with the gaps filled


def _intrinsic_map(rgba: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """uint8 (h, w): 255 where the logo has no edge, or an edge that stays when what shows through
    the logo is replaced by the logo's own colours (:func:`_filled`)."""
    sf = _structure(_filled(rgba))
    return ((sf >= INTRINSIC_EDGE * hi) | (hi < 0.05 * float(hi.max() + 1e-6))).astype(np.uint8) * 255


def _intrinsic_share(intrinsic: np.ndarray, hi: np.ndarray, mask: np.ndarray) -> float:
    """Share of the edge energy inside the logo's visible area that is intrinsic."""
    inside = cv2.erode(mask, np.ones((5, 5), np.uint8)) > 0
    tot = float(hi[inside].sum())
    return round(float(hi[inside & (intrinsic > 0)].sum()) / tot, 3) if tot > 1e-6 else 0.0


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
    # edges that show whatever is behind the logo (letters, the outline of an opaque shape), as
    # against edges of a light or dark part over a transparent area (a white arc beside the shape:
    # invisible on a light photo): the local check compares only the former
    sw, sb = _structure(_on(rgba, 255)), _structure(_on(rgba, 0))
    hi = np.maximum(sw, sb)
    steady = ((np.minimum(sw, sb) >= STEADY_EDGE * hi) | (hi < 0.05 * float(hi.max() + 1e-6))).astype(np.uint8) * 255
    intrinsic = _intrinsic_map(rgba, hi)
    white = Image.fromarray(_on(rgba, 255))
    return LogoTemplate(sha256=sha256 or hashlib.sha256(rgba.tobytes()).hexdigest(),
                        width=int(rgba.shape[1]), height=int(rgba.shape[0]), mask=mask,
                        structure=st.astype(np.float16), orient=orient.astype(np.float16), points=points,
                        descriptors=np.clip(np.rint(descriptors), 0, 255).astype(np.uint8),
                        phash=str(imagehash.phash(white)), meta={"artwork": is_artwork(img), "intrinsic_share": _intrinsic_share(intrinsic, hi, mask)},
                        steady=steady, intrinsic=intrinsic)


# ---------------------------------------------------------------- photos

@dataclass
class PhotoFeatures:
    gray: np.ndarray      # the (rescaled) grey photo
    scale: float          # photo pixels = original pixels * scale
    points: np.ndarray    # (n, 2) float32
    descriptors: np.ndarray  # (n, 128) float32
    structure: np.ndarray | None = None
    full: np.ndarray | None = None  # the grey photo at its original resolution (letters at full detail)


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
    full = rgb_or_gray if rgb_or_gray.ndim == 2 else None
    return PhotoFeatures(gray=g, scale=s, points=pts, descriptors=desc, full=full)


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
        # solid silhouettes (few distinctive keypoints): also searched by shape (shape_verify)
        self.solid = [i for i, t in enumerate(templates) if is_solid(t)]
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
        self.last_votes = votes  # all logos' votes for this photo (solid logos are picked from them)
        order = np.argsort(-votes)[:top]
        return [(int(i), int(votes[i])) for i in order if votes[i] >= min_votes]


# ---------------------------------------------------------------- verification

@dataclass
class Detection:
    template: int
    score: float          # dense similarity (0-1)
    inliers: int
    votes: int
    matrix: np.ndarray    # 3x3, canonical logo canvas -> original photo pixels (projective)
    bbox: list[int]       # x, y, w, h in original photo pixels
    angle: float          # degrees, counter-clockwise as seen in the photo
    rel_width: float      # logo width / photo width
    parts: dict = field(default_factory=dict)  # the dense similarity's components
    transform: str = "similarity"  # which fit verified it: similarity, affine or homography

    def to_evidence(self) -> dict:
        return {"bbox": self.bbox, "inliers": self.inliers, "similarity": round(self.score, 3),
                "angle": round(self.angle, 1), "rel_width": round(self.rel_width, 3),
                "transform": self.transform}


MIN_INLIERS = 5
MIN_SIMILARITY = 0.6    # combined edge similarity a logo must reach to be reported
MIN_OUTLINE = 0.45      # the logo's outline band must agree at least this well ...
MIN_OUTLINE_SHAPED = 0.5  # ... and this well for a logo with its own silhouette (not filling its box):
# the same letters in another frame (a disc instead of a hexagon) agree at 0.45-0.49, while a
# photo crop's outline is just the crop's border (background) and cannot be held to more than 0.45
BOX_FILL = 0.97         # visible share of its bounding box above which a logo is a plain rectangle/crop
ECC_RANGE = (0.3, 0.85)  # refine a fit's alignment only when its similarity is in between


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


def logo_corners(t: LogoTemplate) -> np.ndarray:
    """The logo's canvas corners without padding (4, 2), clockwise from top-left."""
    return np.array([[PAD, PAD], [t.width - PAD, PAD], [t.width - PAD, t.height - PAD], [PAD, t.height - PAD]],
                    np.float32)


def project(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 3x3 (or 2x3) transform to points (n, 2); raises nothing, returns (n, 2) float64."""
    H = as3x3(H)
    p = np.c_[np.asarray(pts, np.float64), np.ones(len(pts))] @ H.T
    w = p[:, 2:3]
    w = np.where(np.abs(w) < 1e-9, 1e-9, w)
    return p[:, :2] / w


def as3x3(M: np.ndarray) -> np.ndarray:
    M = np.asarray(M, np.float64)
    return M if M.shape == (3, 3) else np.vstack([M, [0.0, 0.0, 1.0]])


# Sanity limits of a fitted transform (logo canvas -> photo). A sign seen at an angle or a label on a
# curved bottle is foreshortened (one side shorter than the other) and sheared a little; a fit that
# folds, mirrors or squashes the logo beyond these is a chance alignment of unrelated points.
MAX_ASPECT_CHANGE = 2.5      # width/height of the projected logo vs the logo's own, either way
MAX_SIDE_RATIO = 2.2         # opposite sides of the projected outline
MIN_CORNER_ANGLE = 40.0      # degrees, each corner of the projected outline (90 for no distortion)


def _plausible(H: np.ndarray, t: LogoTemplate, photo: PhotoFeatures, max_angle: float) -> tuple[bool, float, float]:
    """(plausible, rotation in degrees (image axes), logo width / photo's longer side)."""
    H = as3x3(H)
    c = logo_corners(t)
    den = np.c_[c, np.ones(4)] @ H[2]
    if (den <= 1e-6).any():  # the logo would be projected through the horizon
        return False, 0.0, 0.0
    pc = project(H, c)
    top, bottom = pc[1] - pc[0], pc[2] - pc[3]
    left, right = pc[3] - pc[0], pc[2] - pc[1]
    angle = math.degrees(math.atan2(top[1] + bottom[1], top[0] + bottom[0]))
    h, w = photo.gray.shape
    lw = (np.hypot(*top) + np.hypot(*bottom)) / 2
    lh = (np.hypot(*left) + np.hypot(*right)) / 2
    rel = float(lw / max(w, h))
    if not (0.05 <= rel <= 1.2) or abs(angle) > max_angle or lh < 1:
        return False, angle, rel
    aspect = (lw / lh) / ((t.width - 2 * PAD) / max(1, t.height - 2 * PAD))
    if not (1 / MAX_ASPECT_CHANGE <= aspect <= MAX_ASPECT_CHANGE):
        return False, angle, rel
    sides = [np.hypot(*v) for v in (top, bottom, left, right)]
    if min(sides) < 1 or max(sides[0], sides[1]) / min(sides[0], sides[1]) > MAX_SIDE_RATIO or \
            max(sides[2], sides[3]) / min(sides[2], sides[3]) > MAX_SIDE_RATIO:
        return False, angle, rel
    x, y = pc[:, 0], pc[:, 1]
    area = 0.5 * float((x * np.roll(y, -1) - np.roll(x, -1) * y).sum())  # > 0: corners keep their order
    if area <= 0 or not cv2.isContourConvex(pc.astype(np.float32)):  # mirrored or folded
        return False, angle, rel
    for i in range(4):
        u, v = pc[i - 1] - pc[i], pc[(i + 1) % 4] - pc[i]
        cosang = float(np.dot(u, v) / (np.hypot(*u) * np.hypot(*v)))
        if math.degrees(math.acos(max(-1.0, min(1.0, cosang)))) < MIN_CORNER_ANGLE:
            return False, angle, rel
    # most of the logo must lie inside the photo
    cx = pc[:, 0].clip(0, w)
    cy = pc[:, 1].clip(0, h)
    inside = cv2.contourArea(np.stack([cx, cy], 1).astype(np.float32))
    if inside / abs(area) < 0.7:
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
    # (closed first, so a logo made of pieces separated by thin gaps, like a globe, is one silhouette)
    closed = cv2.morphologyEx(t.mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    cs, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    sil = np.zeros_like(t.mask)
    cv2.drawContours(sil, cs, -1, 255, thickness=cv2.FILLED)
    k = max(3, int(round(0.07 * CANON)) | 1)
    interior = cv2.erode(sil, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    if interior.sum() < 0.1 * (sil > 0).sum():
        interior = sil > 0
    # transparent holes (a ring's inside) show whatever is behind the logo: compare only near strokes
    interior &= region
    struct = t.structure.astype(np.float32)
    band = region & ~interior
    b = float(struct[band].mean()) if band.any() else 0.0
    detail = float(struct[interior].mean()) / b if b > 1e-6 and interior.any() else 0.0
    if detail < SOLID_DETAIL:
        # a solid silhouette (swoosh, trefoil, globe): its outline is the design, so the whole
        # region (outline band included) is compared, and the grid cells are cells of the outline
        interior = region.copy()
    ys, xs = np.nonzero(interior)
    cells = []
    if len(xs):
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
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
    if len(cells) < 2 and len(xs):  # a design of thin pieces fills no cell (matcher/logo_photo.py)
        from .logo_photo import thin_design_cells
        cells = thin_design_cells(interior, struct, GRID) or cells
    t._regions_cache = (region, interior, cells)
    t._detail = detail
    return t._regions_cache


GRID = (3, 3)
DENSE_FULL_RES = True
SOLID_DETAIL = 0.03  # inner edge energy / outline edge energy below which a logo is a solid silhouette


def inner_detail(t: LogoTemplate) -> float:
    """Edge energy inside the outline relative to the outline's own: ~0 for a solid silhouette."""
    _regions(t)
    return t._detail


def is_solid(t: LogoTemplate) -> bool:
    """A silhouette with nothing inside its outline (matched on its outline alone)."""
    return inner_detail(t) < SOLID_DETAIL


def fills_box(t: LogoTemplate) -> bool:
    """True when the logo's visible pixels fill its bounding box (a rectangular logo or a photo
    crop): its outline is then the image border rather than a designed silhouette."""
    v = getattr(t, "_fills_box", None)
    if v is None:
        m = t.mask[PAD:t.height - PAD, PAD:t.width - PAD] > 0
        v = t._fills_box = bool(m.size and m.mean() >= BOX_FILL)
    return v


def silhouette_solidity(t: LogoTemplate) -> float:
    """Area of the logo's visible pixels / area of their convex hull (1.0 for a disc or a square;
    well below 1 for a swoosh, a star or a logo of separate pieces)."""
    pts = cv2.findNonZero(t.mask)
    if pts is None:
        return 1.0
    hull = cv2.contourArea(cv2.convexHull(pts))
    return float((t.mask > 0).sum() / hull) if hull > 0 else 1.0


def _dense_layout(t: LogoTemplate):
    """Flat canvas indices of the interior pixels ordered by grid cell (pixels in no cell last),
    the start of each cell in that order, the number of pixels in cells, the outline band's indices,
    and the logo's mean edge magnitude per cell; computed once per template (a few hundred KiB)."""
    cached = getattr(t, "_dense_cache", None)
    if cached is not None:
        return cached
    region, interior, cells = _regions(t)
    label = np.full(interior.shape, len(cells), np.int32)
    for k, c in enumerate(cells):
        label[c] = k
    idx = np.flatnonzero(interior)
    lab = label.reshape(-1)[idx]
    order = np.argsort(lab, kind="stable")
    idx, lab = idx[order].astype(np.int32), lab[order]
    counts = np.bincount(lab, minlength=len(cells) + 1)
    starts = np.concatenate([[0], np.cumsum(counts[:-1])]).astype(np.int64)
    n_cells = int(counts[:len(cells)].sum())
    tor = t.orient.reshape(-1, 2)
    tmag = np.sqrt((tor[idx].astype(np.float32) ** 2).sum(axis=1))
    te = [float(tmag[starts[k]:starts[k] + counts[k]].mean()) if counts[k] >= 20 else 0.0
          for k in range(len(cells))]
    band = np.flatnonzero(region & ~interior).astype(np.int32)
    t._dense_cache = (idx, starts[:len(cells)], counts[:len(cells)], n_cells, band, te)
    return t._dense_cache


DENSE_EARLY_OUTLINE = 0.3  # = ECC_RANGE[0]: an outline agreeing less ends the dense check early
INTRINSIC_READING = (0.2, 0.9)  # intrinsic share of the interior's edge energy for a second reading


def _intrinsic_weights(t: LogoTemplate, idx: np.ndarray) -> np.ndarray | None:
    """0/1 weights of the interior pixels (in ``idx`` order) whose edges are intrinsic
    (:func:`_intrinsic_map`), or None when the logo's interior is (almost) all intrinsic or
    (almost) all see-through (a ring's letters): then a second reading says nothing new."""
    if t.intrinsic is None or is_solid(t):
        return None
    cached = getattr(t, "_intr_w", None)
    if cached is None:
        wi = (t.intrinsic.reshape(-1)[idx] > 0).astype(np.float64)
        tm = np.sqrt((t.orient.reshape(-1, 2)[idx].astype(np.float64) ** 2).sum(axis=1))
        share = float((tm * wi).sum() / max(tm.sum(), 1e-6))
        cached = t._intr_w = wi if INTRINSIC_READING[0] <= share <= INTRINSIC_READING[1] else False
    return None if cached is False else cached


def dense_scores(M: np.ndarray, t: LogoTemplate, photo: PhotoFeatures) -> dict:
    """Edge-structure agreement between the logo and the photo warped onto the logo canvas.

    Compared: polarity-blind edge orientation fields (so recolouring and light/dark inversion do
    not matter). interior: inside the outline (what a same-outline logo does not share); cells:
    the two worst grid cells of the interior (one wrong letter spoils its cells even when the
    other letter matches); outline: the band along the logo's silhouette (a logo of another shape
    with the same letters fails there). Returns a dict of correlations (-1..1): interior,
    cell_min/2nd/3rd, outline, their contrast-blind ``a_`` readings, outline_min, covered.
    """
    H = as3x3(M)
    src = photo.gray
    if DENSE_FULL_RES and photo.full is not None and photo.scale < 1:
        # sample the photo at its original resolution: a small logo's letters keep their detail
        src = photo.full
        H = np.diag([1 / photo.scale, 1 / photo.scale, 1.0]) @ H
    size = (t.width, t.height)
    affine = abs(H[2, 0]) < 1e-12 and abs(H[2, 1]) < 1e-12
    flags = cv2.WARP_INVERSE_MAP
    if affine:
        warped = cv2.warpAffine(src, H[:2], size, flags=cv2.INTER_LINEAR | flags, borderMode=cv2.BORDER_REPLICATE)
    else:
        warped = cv2.warpPerspective(src, H, size, flags=cv2.INTER_LINEAR | flags,
                                     borderMode=cv2.BORDER_REPLICATE)
    so = _orient(warped, sigma=1.2).reshape(-1, 2)
    idx, starts, counts, n_cells, band_idx, te = _dense_layout(t)
    ph, pw = src.shape
    pc = project(H, np.array([[0, 0], [t.width, 0], [t.width, t.height], [0, t.height]], np.float64))
    if (pc[:, 0] >= 3).all() and (pc[:, 0] <= pw - 4).all() and (pc[:, 1] >= 3).all() and (pc[:, 1] <= ph - 4).all():
        ok = None  # the whole canvas lies inside the photo
    else:
        ones = np.full(src.shape, 255, np.uint8)
        valid = (cv2.warpAffine(ones, H[:2], size, flags=cv2.INTER_NEAREST | flags, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=0) if affine else
                 cv2.warpPerspective(ones, H, size, flags=cv2.INTER_NEAREST | flags, borderMode=cv2.BORDER_CONSTANT,
                                     borderValue=0))
        ok = (cv2.erode(valid, np.ones((5, 5), np.uint8)) > 0).reshape(-1)
    out = {"interior": 0.0, "cell_min": 0.0, "cell_2nd": 0.0, "outline": 0.0}
    tor = t.orient.reshape(-1, 2)
    bsel = band_idx if ok is None else band_idx[ok[band_idx]]
    if len(bsel) >= 50:
        out["outline"] = _zncc(tor[bsel].astype(np.float32), so[bsel])
    out["outline_min"] = MIN_OUTLINE if fills_box(t) else MIN_OUTLINE_SHAPED
    if len(bsel) >= 50 and out["outline"] < DENSE_EARLY_OUTLINE:
        # the outline disagrees so much that the placement can neither pass (:func:`combine` caps the
        # similarity at the outline's) nor be worth refining: its reading stands for the whole
        v = out["outline"]
        out.update(interior=v, cell_min=v, cell_2nd=v, early=1)
        return out
    # Every score below is a correlation or a weighted mean over the interior or one grid cell,
    # computed from per-pixel sums over the interior's pixels (gathered once, cells contiguous).
    w = np.ones(len(idx), np.float64) if ok is None else ok[idx].astype(np.float64)
    if w.sum() < 50:
        return out
    a = tor[idx].astype(np.float64)
    b = so[idx].astype(np.float64)
    a0, a1, b0, b1 = a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy()
    bb = b0 * b0 + b1 * b1
    aa = a0 * a0 + a1 * a1
    mag = np.sqrt(bb)
    tmag = np.sqrt(aa)
    ncell = len(starts)
    at = np.minimum(starts, max(0, n_cells - 1))

    def cell_sums(v: np.ndarray) -> np.ndarray:
        """Sums of ``v`` (..., n) over each grid cell's pixels: (..., cells)."""
        if not ncell:
            return np.zeros(v.shape[:-1] + (0,))
        s = np.add.reduceat(v[..., :n_cells], at, axis=-1)
        s[..., counts == 0] = 0
        return s

    # Covered cells: flat in the photo where the logo has detail (a sticker, a price tag, a thumb).
    # They carry no evidence either way and are left out; a wrong letter is not flat (it has its own
    # edges) and still counts. At most a third of the cells may be covered.
    cn = cell_sums(w) if ncell else np.zeros(0)
    if ncell >= 3:
        cm = cell_sums(mag * w)
        pe = [float(cm[k] / cn[k]) if cn[k] >= 20 else 0.0 for k in range(ncell)]
        pmed, tmed = float(np.median(pe)), float(np.median(te))
        covered = set()
        if pmed > 1e-6 and tmed > 1e-6:
            covered = {k for k in range(ncell) if pe[k] < COVERED_FLAT * pmed and te[k] > 0.5 * tmed}
        if len(covered) > ncell // 3:
            covered = set()
        if covered:
            w = w.copy()
            for k in covered:
                w[starts[k]:starts[k] + counts[k]] = 0.0
            out["covered"] = len(covered)
    else:
        covered = set()
    ab = a0 * b0 + a1 * b1

    def zncc_agree(v: np.ndarray) -> tuple[float, float, int]:
        n = v[9]
        if n < 1:
            return 0.0, 0.0, 0
        num = v[4] - (v[0] * v[2] + v[1] * v[3]) / n
        va = v[5] - (v[0] ** 2 + v[1] ** 2) / n
        vb = v[6] - (v[2] ** 2 + v[3] ** 2) / n
        den = math.sqrt(max(va, 0.0) * max(vb, 0.0))
        return (float(num / den) if den > 1e-6 else 0.0), (float(v[8] / v[7]) if v[7] > 1e-6 else 0.0), int(round(n))

    def reading(w: np.ndarray, res: dict, skip: set) -> dict:
        """Interior and cell scores over the pixels weighted by ``w`` (cells in ``skip`` left out)."""
        used = w > 0
        if used.sum() < 50:
            return res
        # contrast-blind agreement: photo orientations as unit vectors, weighted by the logo's edges
        eps = 0.15 * float(np.percentile(mag[used], 90)) + 1e-3
        st = np.stack([a0, a1, b0, b1, ab, aa, bb, tmag, ab / (mag + eps), np.ones_like(ab)])  # (10, n)
        res["interior"], res["a_interior"], _ = zncc_agree(st @ w)
        cz, az = [], []
        for k, v in enumerate(cell_sums(st * w).T):
            if k in skip:
                continue
            z, ag, n = zncc_agree(v)
            cz.append(z if n >= 20 else 0.0)
            if n >= 20:
                az.append(ag)
        cz.sort()
        az.sort()
        if cz:
            res["cell_min"] = cz[0]
            res["cell_2nd"] = cz[1] if len(cz) > 1 else cz[0]
            res["cell_3rd"] = cz[2] if len(cz) > 2 else res["cell_2nd"]
        res["a_cell_min"] = az[0] if az else 0.0
        res["a_cell_2nd"] = (az[1] if len(az) > 1 else az[0]) if az else 0.0
        res["a_cell_3rd"] = (az[2] if len(az) > 2 else res["a_cell_2nd"]) if az else 0.0
        return res

    reading(w, out, covered)
    if len(bsel) < 50 and is_solid(t):  # a silhouette: its compared region already is its outline
        out["outline"] = out["interior"]
    intr = _intrinsic_weights(t, idx)
    if intr is not None:
        # second reading, over the edges between visible parts of the logo only (letters on a
        # globe, not the globe's see-through meridians, whose contrast depends on what is behind):
        # cells with no such detail are left out
        w2 = w * intr
        ce = cell_sums(tmag * w2)
        cw = cell_sums(w2)
        e_all = float((tmag * w2).sum()) / max(float(w2.sum()), 1.0)
        skip = covered | {k for k in range(ncell) if cw[k] < 20 or ce[k] / cw[k] < 0.5 * e_all}
        if ncell - len(skip) >= 2:
            alt = reading(w2, {"interior": 0.0, "cell_min": 0.0, "cell_2nd": 0.0, "outline": out["outline"],
                                "outline_min": out["outline_min"]}, skip)
            if combine(alt) > combine(out):
                if "covered" in out:
                    alt["covered"] = out["covered"]
                alt["intrinsic"] = 1
                out = alt
    return out


LOCAL_WIN = 31          # window of the local comparison, canonical px (about half a letter's height)
LOCAL_PCT = 5.0         # percentile of the windows' correlations taken as the logo's weakest part
LOCAL_SLACK = 0.10      # the similarity may exceed the weakest local agreement by at most this
LOCAL_TEMPLATE_EDGES = 0.8  # a window counts when the logo has at least this share of its median detail ...
LOCAL_PHOTO_EDGES = 0.5     # ... and the photo this share of its own (flat = covered or invisible: no evidence)
LOCAL_MIN_DETAIL = 0.1      # ... and at least this share of the logo's strong edge magnitude


def local_agreement(d: "Detection", t: LogoTemplate, photo: PhotoFeatures) -> float | None:
    """The weakest local agreement of the logo's inner design with the photo, -1..1, or None when
    there is too little inner detail to judge (solid silhouettes).

    The photo is warped onto the logo canvas from its original resolution (``d.matrix``: canvas ->
    original pixels) and the polarity-blind orientation fields are correlated (zero-mean, normalised)
    in every ``LOCAL_WIN`` window of the interior where both the logo and the photo have edges; the
    ``LOCAL_PCT`` percentile of those correlations is returned. One letter changed (a registered
    logo's near-twin: "HM" for "NM", "E" for "F") leaves the global and per-cell scores high but
    gives windows that do not correlate at all; a true logo, even blurred or recoloured, correlates
    in every window where it is visible. Windows where the photo is flat (a sticker, a white arc on a
    light background) carry no evidence and are left out, as in :func:`dense_scores`.

    Only for logos registered as clean artwork (``t.meta["artwork"]``, :func:`is_artwork`): a photo
    crop's interior holds background of the photo it was cut from, which other photos of the brand
    do not share, so its windows cannot all be held to agree. Measured on the 1 000-logo benchmark
    and the FlickrLogos-27 subset: see docs/matching-logo.md."""
    region, interior, _cells = _regions(t)
    if is_solid(t) or not t.meta.get("artwork") or interior.sum() < LOCAL_WIN * LOCAL_WIN:
        return None
    src = photo.full if photo.full is not None else photo.gray
    H = as3x3(d.matrix)
    if src is not photo.full:
        H = np.diag([photo.scale, photo.scale, 1.0]) @ H
    size = (t.width, t.height)
    warped = cv2.warpPerspective(src, H, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REPLICATE)
    so = _orient(warped, sigma=1.2)
    tor = t.orient.astype(np.float32)
    i = interior.astype(np.float32)
    if t.steady is not None:  # leave out edges that depend on what is behind the logo, on both sides
        i = i * (t.steady > 0)
    # what shows through the logo's see-through parts (a trefoil's hole, a ring's inside) is the
    # photo's own background: only the logo's visible pixels and their edges are compared
    i = i * (cv2.dilate(t.mask, np.ones((5, 5), np.uint8)) > 0)
    if _intrinsic_weights(t, _dense_layout(t)[0]) is not None:
        # ... and, where the logo has see-through parts inside (a globe's meridians), the edges
        # between the logo and what shows through them: their contrast depends on the photo
        i = i * (t.intrinsic > 0)
    a0, a1 = tor[..., 0], tor[..., 1]
    n, z, te, se = window_correlation(tor, so, i, LOCAL_WIN)
    ok = interior & (n >= 0.6 * LOCAL_WIN * LOCAL_WIN)
    if ok.sum() < 10:
        return None
    se_med = float(np.median(se[ok]))
    detail = ok & (te > LOCAL_TEMPLATE_EDGES * float(np.median(te[ok])))
    # a design with (almost) no steady inner detail (a trefoil whose see-through hole barely shows on
    # a dark logo) is not judged: most of its "detail" windows would be the noise of flat parts
    tm = np.sqrt(a0 * a0 + a1 * a1)
    floor = LOCAL_MIN_DETAIL * float(np.percentile(tm[region], 90)) if region.any() else 0.0
    if (detail & (te >= floor)).sum() < 0.5 * detail.sum():
        return None
    ok = detail & (se > LOCAL_PHOTO_EDGES * se_med)
    if ok.sum() < 10:
        return None
    return float(np.percentile(z[ok], LOCAL_PCT))


def window_correlation(tor: np.ndarray, so: np.ndarray, weight: np.ndarray, win: int):
    """Correlation of two orientation fields (H×W×2: logo ``tor``, photo ``so``) in every
    ``win``×``win`` window, counting only pixels where ``weight`` (H×W, 0/1) is set.

    Returns (n, z, te, se), each H×W float32: pixels counted per window (at least 1), the
    correlation (-1..1), and the mean edge strength of the logo and of the photo in the window."""
    k = (win, win)

    def box(x):
        return cv2.boxFilter(x * weight, -1, k, normalize=False, borderType=cv2.BORDER_CONSTANT)

    a0, a1, b0, b1 = tor[..., 0], tor[..., 1], so[..., 0], so[..., 1]
    n = np.maximum(box(np.ones_like(weight)), 1.0)
    sa0, sa1, sb0, sb1 = box(a0), box(a1), box(b0), box(b1)
    num = box(a0 * b0 + a1 * b1) - (sa0 * sb0 + sa1 * sb1) / n
    va = box(a0 * a0 + a1 * a1) - (sa0 * sa0 + sa1 * sa1) / n
    vb = box(b0 * b0 + b1 * b1) - (sb0 * sb0 + sb1 * sb1) / n
    z = num / np.sqrt(np.maximum(va, 1e-6) * np.maximum(vb, 1e-6))
    te = box(np.sqrt(a0 * a0 + a1 * a1)) / n
    se = box(np.sqrt(b0 * b0 + b1 * b1)) / n
    return n, z, te, se


def dense_similarity(M: np.ndarray, t: LogoTemplate, photo: PhotoFeatures) -> float:
    s = dense_scores(M, t, photo)
    return combine(s)


def combine(s: dict, inliers: int = 0) -> float:
    """One similarity: the letters/inner design must match as a whole and in its worst parts, and
    the outline must be there too (else a logo of other shape with the same letters would pass).

    Two readings of "match" are computed and the better one kept: correlation of the orientation
    fields (robust to clutter behind transparent parts) and contrast-blind agreement of edge
    directions (robust to low-contrast recolouring).

    Partial occlusion (a sticker, a box in front): with strong geometric evidence (at least
    ``OCCLUSION_INLIERS`` keypoints agree) and a well-matching interior, the single worst grid cell
    is taken as covered and ignored. Another logo of the same outline differs in at least two cells
    (its letters), so it still fails."""
    c1, c2 = "cell_min", "cell_2nd"
    a1, a2 = "a_cell_min", "a_cell_2nd"
    if inliers >= OCCLUSION_INLIERS and s["interior"] >= OCCLUSION_INTERIOR:
        c1, c2, a1, a2 = "cell_2nd", "cell_3rd", "a_cell_2nd", "a_cell_3rd"
    # the worst counted cell may lie at most CELL_SLACK below the score: averaging it with a good
    # neighbour alone let one wrong letter of a registered near-twin pass
    corr = min(s["interior"], (s.get(c1, 0.0) + s.get(c2, 0.0)) / 2, s.get(c1, 0.0) + CELL_SLACK)
    agree = min(s.get("a_interior", 0.0), (s.get(a1, 0.0) + s.get(a2, 0.0)) / 2, s.get(a1, 0.0) + CELL_SLACK)
    sim = max(corr, agree)
    if s.get("covered"):
        # cells were left out as covered: a concession that both readings must support (a cover
        # hides edges but does not turn the remaining ones; a filled disc with a ring logo's letters
        # "covers" the ring's inner edge and its letters' directions agree poorly)
        sim = min(sim, agree + COVER_AGREE_SLACK)
    if s["outline"] < s.get("outline_min", MIN_OUTLINE):
        sim = min(sim, s["outline"])
    return sim


OCCLUSION_INLIERS = 50  # 40 let registered near-twins through (one wrong letter taken as "covered")
COVERED_FLAT = 0.2   # a cell whose photo edge energy is under this share of the median cell's is covered
COVER_AGREE_SLACK = 0.2  # with covered cells, the similarity may exceed the contrast-blind reading by this
OCCLUSION_INTERIOR = 0.75
CELL_SLACK = 0.15


ECC_STEP = 2  # canvas pixels per pixel of the template ECC aligns ...
ECC_POLISH = 8  # ... then, for a placement near the threshold, this many at the canvas's own resolution
POLISH_RANGE = (0.5, 0.7)  # similarity after the half-resolution ECC that earns the polish


def _ecc_template(t: LogoTemplate) -> np.ndarray:
    """The logo's edge structure at 1/ECC_STEP of the canvas resolution (float32), for :func:`refine`."""
    e = getattr(t, "_ecc_cache", None)
    if e is None:
        st = t.structure.astype(np.float32)
        e = t._ecc_cache = cv2.resize(st, (t.width // ECC_STEP, t.height // ECC_STEP), interpolation=cv2.INTER_AREA)
    return e


def refine(M: np.ndarray, t: LogoTemplate, photo: PhotoFeatures, iters: int = 40, blur: int = 3,
           homography: bool = False, polish: bool = False) -> np.ndarray:
    """Sharpen a fitted transform (3x3, canvas -> photo) with ECC on edge structure.

    Returns the refined 3x3 transform, or ``M`` itself when ECC fails or wanders off (its centre
    moving by more than a quarter of the logo's width)."""
    H = as3x3(M)
    homog = homography or abs(H[2, 0]) > 1e-9 or abs(H[2, 1]) > 1e-9
    motion = cv2.MOTION_HOMOGRAPHY if homog else cv2.MOTION_AFFINE
    # aligned at half the canvas resolution (4x fewer pixels per iteration): the logo covers about
    # that many pixels of the working photo anyway, so nothing is lost
    small = _ecc_template(t)
    sx, sy = t.width / small.shape[1], t.height / small.shape[0]
    S = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1.0]])  # small -> canvas pixels
    Hs = H @ S
    warp = (Hs / Hs[2, 2] if homog else Hs[:2]).astype(np.float32)
    try:
        st = _photo_structure(photo)
        _, warp = cv2.findTransformECC(small, st, warp, motion,
                                       (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iters, 1e-4), None, blur)
        newH = as3x3(warp) @ np.linalg.inv(S)
    except cv2.error:
        return M
    if polish:
        # a few iterations at the canvas's full resolution to finish (placements near the threshold)
        Hf = newH / newH[2, 2] if homog else newH
        try:
            _, warp = cv2.findTransformECC(t.structure.astype(np.float32), st,
                                           (Hf if homog else Hf[:2]).astype(np.float32), motion,
                                           (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_POLISH, 1e-4),
                                           None, blur)
            newH = as3x3(warp)
        except cv2.error:
            pass
    c = np.array([[t.width / 2, t.height / 2]])
    lw = float(np.hypot(*(project(H, logo_corners(t)[1:2]) - project(H, logo_corners(t)[:1]))[0]))
    if np.linalg.norm(project(newH, c) - project(H, c)) > 0.25 * max(lw, 1.0):
        return M
    return newH


# The transforms tried for each shortlisted logo, simplest first: (name, minimum inliers).
# A similarity (rotation + uniform scale) covers flat, frontal logos; an affine fit adds shear and
# unequal scale (a logo seen at a moderate angle, a label on a curved bottle); a homography adds
# foreshortening (a sign or box seen at a steep angle). Each is RANSAC-fitted on the same
# correspondences, checked for plausibility, and scored densely; the best verified one is kept.
FITS = (("similarity", MIN_INLIERS), ("affine", MIN_INLIERS + 2), ("homography", MIN_INLIERS + 5))
CLEAR_HIT = 0.85   # a fit this similar needs no further (more flexible) fits
FLEX_FIT_INLIERS = 10  # affine/homography are tried only once some fit found this many inliers
FLEX_TOP = 1           # per photo, logos (most inliers first) that get the affine/homography fits


# turns tried when a fit is only implausible by its rotation: 2-fold (180), 4-fold (90, 270) and
# 3-fold (120, 240: a trefoil) symmetric designs match as well turned
SYMMETRIC_TURNS = (180, 90, 270, 120, 240)


def _turn_about_centre(t: LogoTemplate, degrees: int) -> np.ndarray:
    """3x3 rotation of the logo canvas about the centre of mass of the logo's visible pixels
    (canvas -> canvas): the centre of a symmetric design even when its bounding box is not (the
    top leaf of a trefoil reaches further from the centre than the two lower ones)."""
    a = math.radians(degrees)
    c, s_ = math.cos(a), math.sin(a)
    centre = getattr(t, "_centroid", None)
    if centre is None:
        mo = cv2.moments(t.mask, binaryImage=True)
        centre = t._centroid = ((mo["m10"] / mo["m00"], mo["m01"] / mo["m00"]) if mo["m00"] > 0 else
                                (t.width / 2, t.height / 2))
    cx, cy = centre
    return np.array([[c, -s_, cx - c * cx + s_ * cy], [s_, c, cy - s_ * cx - c * cy], [0.0, 0.0, 1.0]])


def _fit(kind: str, src: np.ndarray, dst: np.ndarray, thr: float):
    if kind == "similarity":
        M, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=thr,
                                             maxIters=3000, confidence=0.995, refineIters=10)
    elif kind == "affine":
        M, inl = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=thr,
                                      maxIters=3000, confidence=0.995, refineIters=10)
    else:
        M, inl = cv2.findHomography(src, dst, cv2.RANSAC, thr, maxIters=2000, confidence=0.995)
    if M is None or inl is None:
        return None, 0
    return as3x3(M), int(inl.sum())


def verify(photo: PhotoFeatures, t: LogoTemplate, ti: int, votes: int, *, max_angle: float = 40.0,
           min_inliers: int = MIN_INLIERS, use_ecc: bool = True, fits=FITS,
           stats: dict | None = None, known_inliers: int = 0) -> Detection | None:
    """The best verified placement of logo ``t`` in the photo, or None.

    Each transform of ``fits`` is fitted (RANSAC on photo/logo descriptor matches), dropped when
    implausible (see :func:`_plausible`), optionally refined with ECC when its similarity is
    borderline, and scored with :func:`dense_scores`/:func:`combine`; the most similar wins."""
    src, dst = _bf_matches(photo, t)
    if len(src) < min_inliers:
        return None
    h, w = photo.gray.shape
    thr = max(3.0, 0.008 * max(h, w))
    best = None  # (sim, H, n_in, angle, rel, parts, kind)
    most_inliers = known_inliers  # inliers an earlier (simpler) fit of this logo found
    for kind, need in fits:
        if best is not None and best[0] >= CLEAR_HIT:
            break
        need = max(need, min_inliers)
        if len(src) < need:
            continue
        if kind != "similarity" and most_inliers < FLEX_FIT_INLIERS:
            continue  # nothing consistent found so far: a more flexible fit would only fit noise
        H, n_in = _fit(kind, src, dst, thr)
        most_inliers = max(most_inliers, n_in)
        if H is None or n_in < need:
            continue
        ok, angle, rel = _plausible(H, t, photo, max_angle)
        parts = None
        if not ok and abs(angle) > max_angle:
            # a symmetric logo (a globe, a four-leaf design, a trefoil) fits as well turned by
            # 90/180/270 or 120/240 degrees about its centre: try the upright equivalents (every
            # plausible one: a trefoil turned by 90 degrees is upright enough but wrong) and keep
            # the most similar
            turned = None
            for k in SYMMETRIC_TURNS:
                H2 = H @ _turn_about_centre(t, k)
                ok2, angle2, rel2 = _plausible(H2, t, photo, max_angle)
                if ok2:
                    p2 = dense_scores(H2, t, photo)
                    s2 = combine(p2, n_in)
                    if turned is None or s2 > turned[0]:
                        turned = (s2, H2, angle2, rel2, p2)
            if turned is not None:
                ok = True
                _s, H, angle, rel, parts = turned
        if not ok:
            continue
        if parts is None:
            parts = dense_scores(H, t, photo)
        sim = combine(parts, n_in)
        if use_ecc and ECC_RANGE[0] <= sim < ECC_RANGE[1]:  # clear rejects and clear hits need no refinement
            H2 = refine(H, t, photo)
            if H2 is not H:
                ok2, angle2, rel2 = _plausible(H2, t, photo, max_angle)
                parts2 = dense_scores(H2, t, photo) if ok2 else None
                if parts2 is not None and combine(parts2, n_in) > sim:
                    H, sim, angle, rel, parts = H2, combine(parts2, n_in), angle2, rel2, parts2
        if stats is not None:  # every plausible fit, for a later refinement (find_logos)
            stats.setdefault("fits", []).append(_detection(photo, t, ti, sim, H, n_in, votes, angle, rel, parts, kind))
        if best is None or sim > best[0]:
            best = (sim, H, n_in, angle, rel, parts, kind)
    if stats is not None:
        stats["most_inliers"] = most_inliers
    if best is None:
        return None
    sim, H, n_in, angle, rel, parts, kind = best
    return _detection(photo, t, ti, sim, H, n_in, votes, angle, rel, parts, kind)


ECC_TOP = 3  # per photo, borderline placements (most similar first) refined by ECC


def refine_detection(photo: PhotoFeatures, t: LogoTemplate, d: Detection, *, max_angle: float = 40.0) -> Detection:
    """``d`` with its transform refined by ECC (:func:`refine`) when that makes it more similar;
    else ``d`` itself. Same plausibility limits and scoring as :func:`verify`."""
    H = np.diag([photo.scale, photo.scale, 1.0]) @ d.matrix  # back to the rescaled photo's pixels
    best = None
    for polish in (False, True):
        H2 = refine(H, t, photo, polish=polish)
        if H2 is H:
            break
        ok, angle, rel = _plausible(H2, t, photo, max_angle)
        if ok:
            parts = dense_scores(H2, t, photo)
            sim = combine(parts, d.inliers)
            if sim > (best[0] if best else d.score):
                best = (sim, H2, angle, rel, parts)
        if best is None or not POLISH_RANGE[0] <= best[0] < POLISH_RANGE[1]:
            break  # clearly in or out: no polish
    if best is None:
        return d
    sim, H2, angle, rel, parts = best
    return _detection(photo, t, d.template, sim, H2, d.inliers, d.votes, angle, rel, parts, d.transform)


REMATCH_RADIUS = 0.12    # share of the canvas's longer side a guided match may lie from its first place
REMATCH_MIN = 8          # inliers the guided fit needs
REMATCH_TOP = 1          # per photo, logos (most keypoints first) whose failed placement is re-matched
REMATCH_ROUNDS = 2       # ... at most this many times, while it becomes more similar


def rematch(photo: PhotoFeatures, t: LogoTemplate, d: Detection, *, max_angle: float = 40.0) -> Detection | None:
    """Guided second fit of a placement that found the logo roughly but not well enough (a sign seen
    at a steep angle: SIFT descriptors change with foreshortening, so the first fit rests on few
    keypoints and a wrong homography). The photo is warped onto the logo canvas with ``d``'s transform
    (at the photo's original resolution), which takes most of the distortion out; keypoints found
    there are matched to the logo's own keypoints *near the same canvas position* (a Lowe ratio test
    among those), and the residual homography fitted on them corrects ``d``'s transform. The result is
    checked and scored like any fit (:func:`_plausible`, :func:`dense_scores`); None when the guided
    fit finds too few consistent keypoints or is implausible."""
    H0 = np.diag([photo.scale, photo.scale, 1.0]) @ as3x3(d.matrix)  # canvas -> working photo pixels
    src = photo.full if photo.full is not None else photo.gray
    Hs = as3x3(d.matrix) if photo.full is not None else H0
    warped = cv2.warpPerspective(src, Hs, (t.width, t.height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REPLICATE)
    kps, desc = _sift().detectAndCompute(warped, None)
    if desc is None or len(kps) < REMATCH_MIN or len(t.descriptors) < 2:
        return None
    q = np.array([k.pt for k in kps], np.float32)
    td = t.descriptors.astype(np.float32)
    d2 = (desc * desc).sum(axis=1)[:, None] + (td * td).sum(axis=1)[None, :] - 2.0 * (desc @ td.T)
    dist = np.sqrt(np.maximum(d2, 0))  # (nq, nt) descriptor distances
    near = np.hypot(q[:, None, 0] - t.points[None, :, 0], q[:, None, 1] - t.points[None, :, 1]) \
        <= REMATCH_RADIUS * max(t.width, t.height)
    dist = np.where(near, dist, np.inf)
    order = np.argsort(dist, axis=1)[:, :2]
    best = dist[np.arange(len(q)), order[:, 0]]
    second = dist[np.arange(len(q)), order[:, 1]]
    keep = np.isfinite(best) & (best < 0.85 * second)
    if keep.sum() < REMATCH_MIN:
        return None
    pt = t.points[order[keep, 0]]
    pq = q[keep]
    G, inl = cv2.findHomography(pt, pq, cv2.RANSAC, 3.0, maxIters=1000, confidence=0.995)
    if G is None or inl is None or int(inl.sum()) < REMATCH_MIN:
        return None
    H = H0 @ G
    ok, angle, rel = _plausible(H, t, photo, max_angle)
    if not ok:
        return None
    parts = dense_scores(H, t, photo)
    n_in = max(d.inliers, int(inl.sum()))
    return _detection(photo, t, d.template, combine(parts, n_in), H, n_in, d.votes, angle, rel, parts, "homography")


def shortlist_size(n_logos: int) -> int:
    """How many best-voted logos are verified per photo."""
    return 10  # measured: 10 + n/400 bought +1 point of recall at 5 000 logos for 30 % more time


def find_logos(index: LogoIndex, photo: PhotoFeatures, *, top: int | None = None,
               min_similarity: float = MIN_SIMILARITY, candidates: list[int] | None = None,
               below: list | None = None) -> list[Detection]:
    """Every registered logo verified in the photo (best first), above ``min_similarity``.
    ``below``: if given, keypoint placements scored under ``min_similarity`` are appended to it."""
    out = []
    short = index.shortlist(photo, top=top or shortlist_size(len(index.templates)))
    if candidates is not None:
        allowed = set(candidates)
        short = [(i, v) for i, v in short if i in allowed]
    # 1) a similarity fit for every shortlisted logo; 2) the more flexible fits (affine, homography)
    # only for the FLEX_TOP logos with the most consistent keypoints that are not already clear
    # hits: a photo rarely shows more than one or two logos, and the flexible fits cost the most.
    # 3) the ECC refinement (the costliest step) only for the ECC_TOP most similar borderline
    # placements of the photo: a wrong logo's placement is borderline too, and refining it rarely
    # changes the outcome.
    first = []
    tried: dict[int, list[Detection]] = {}  # every plausible fit per logo
    for ti, votes in short:
        st: dict = {}
        d = verify(photo, index.templates[ti], ti, votes, fits=FITS[:1], stats=st, use_ecc=False)
        first.append((st.get("most_inliers", 0), ti, votes, d))
        tried[ti] = st.get("fits", [])
    flex = sorted((x for x in first if x[0] >= FLEX_FIT_INLIERS and (x[3] is None or x[3].score < CLEAR_HIT)),
                  key=lambda x: -x[0])[:FLEX_TOP]
    better = {}
    for n_in, ti, votes, d in flex:
        st = {}
        d2 = verify(photo, index.templates[ti], ti, votes, fits=FITS[1:], known_inliers=n_in, use_ecc=False, stats=st)
        tried[ti] += st.get("fits", [])
        if d2 is not None and (d is None or d2.score > d.score):
            better[ti] = d2
    found = [better.get(ti, d) for _, ti, _, d in first]
    border = sorted((k for k, d in enumerate(found) if d is not None and ECC_RANGE[0] <= d.score < ECC_RANGE[1]),
                    key=lambda k: -found[k].score)[:ECC_TOP]
    for k in border:
        # refine every fit found for that logo: a less similar fit (a homography under an affine
        # map) may align best once refined
        ti = first[k][1]
        for x in tried[ti]:
            if not ECC_RANGE[0] <= x.score < ECC_RANGE[1]:
                continue
            x2 = refine_detection(photo, index.templates[ti], x)
            if x2.score > found[k].score:
                found[k] = x2
    # 4) a guided re-match (:func:`rematch`) of the logos with the most consistent keypoints that
    # are still not found: a logo seen at a steep angle is roughly placed by the first fits but
    # rests on few keypoints; warped back with that placement it shows its keypoints again
    redo = sorted((k for k, x in enumerate(first) if x[0] >= FLEX_FIT_INLIERS and tried[x[1]]
                   and (found[k] is None or found[k].score < min_similarity)), key=lambda k: -first[k][0])
    for k in redo[:REMATCH_TOP]:
        ti = first[k][1]
        start = cur = max(tried[ti], key=lambda x: x.score)
        for _ in range(REMATCH_ROUNDS):
            r = rematch(photo, index.templates[ti], cur)
            if r is None or r.score <= cur.score:
                break
            cur = r
        if cur is not start and (found[k] is None or cur.score > found[k].score):
            found[k] = cur
    for d in found:
        if d is not None and d.score < min_similarity and below is not None:
            below.append(d)  # a second, coarse reading may accept it (matcher/logo_photo.coarse_rescue)
        if d is not None and d.score >= min_similarity:
            # second stage: every part of the inner design must agree, not only the whole and its
            # cells (a registered logo's one-letter near-twin fails here)
            loc = local_agreement(d, index.templates[d.template], photo)
            if loc is not None:
                d.parts["local"] = round(loc, 3)
                d.score = min(d.score, loc + LOCAL_SLACK)
            if d.score >= min_similarity:
                out.append(d)
    done = {d.template for d in out}
    votes = getattr(index, "last_votes", None)
    solid = [ti for ti in getattr(index, "solid", ()) if ti not in done and (candidates is None or ti in allowed)]
    if votes is not None and len(solid) > SHAPE_TOP_LOGOS:  # bound the cost: the best-voted silhouettes
        solid = sorted(solid, key=lambda ti: -int(votes[ti]))[:SHAPE_TOP_LOGOS]
    for ti in solid:
        d = shape_verify(photo, index.templates[ti], ti)
        if d is not None and d.score >= min_similarity:
            out.append(d)
    return suppress_overlaps(out)


# ---------------------------------------------------------------- solid silhouettes by shape
#
# A solid logo (a swoosh, a trefoil of separate leaves, a crown) has few distinctive keypoints:
# its corners look like any corner. It is found instead by the shape of its largest piece: the photo
# is cut into regions bounded by edges (Canny), each region's Hu moments (invariant to position,
# scale and rotation) are compared with the piece's, and the best few regions give candidate
# placements (centroid, scale from the area, rotation from the principal axis, or a sweep when the
# piece is round) that are verified by the same dense check as keypoint fits, over the whole logo
# (all its pieces). Cost: a few ms per photo per solid logo.

SHAPE_ECC_RANGE = (0.1, 0.85)  # placements from moments are coarse: ECC refines them from lower similarity
SHAPE_TOP_LOGOS = 8       # solid logos tried by shape per photo (the best-voted ones)
SHAPE_MAX_REGIONS = 4     # best-matching photo regions tried per solid logo
SHAPE_MAX_HU_DIST = 0.5   # log-Hu distance above which a region is not this piece's shape
HU_LOG_CAP = np.array([3.0, 4.0])
HU_WEIGHTS = np.array([1.0, 0.25])
SHAPE_SWEEP = tuple(range(-40, 41, 10))  # rotations tried for round pieces (no principal axis)


def _hu_from_mask(m: np.ndarray) -> tuple | None:
    """(log Hu moments 1-2, centroid, area, principal-axis angle in degrees, anisotropy, 2x2 covariance)
    of a binary mask, or None when it is empty."""
    mo = cv2.moments(m, binaryImage=True)
    if mo["m00"] <= 0:
        return None
    hu = cv2.HuMoments(mo).ravel()[:2]
    # spread and elongation only; capped, since near-zero invariants of round shapes are noise
    loghu = np.minimum(-np.log10(np.abs(hu) + 1e-30), HU_LOG_CAP)
    cx, cy = mo["m10"] / mo["m00"], mo["m01"] / mo["m00"]
    mu20, mu02, mu11 = mo["mu20"], mo["mu02"], mo["mu11"]
    theta = 0.5 * math.atan2(2 * mu11, mu20 - mu02)
    common = math.sqrt(4 * mu11 ** 2 + (mu20 - mu02) ** 2)
    l1, l2 = (mu20 + mu02 + common) / 2, (mu20 + mu02 - common) / 2
    anis = math.sqrt(l1 / l2) if l2 > 1e-9 else 99.0
    cov = np.array([[mu20, mu11], [mu11, mu02]]) / mo["m00"]
    return loghu, (cx, cy), float(mo["m00"]), math.degrees(theta), anis, cov


def _largest_piece(t: LogoTemplate):
    cached = getattr(t, "_piece_cache", None)
    if cached is not None:
        return cached
    n, lab, st, _ = cv2.connectedComponentsWithStats((t.mask > 0).astype(np.uint8), connectivity=8)
    if n <= 1:
        t._piece_cache = False
        return False
    i = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
    t._piece_cache = _hu_from_mask((lab == i).astype(np.uint8))
    return t._piece_cache


def _photo_regions(photo: PhotoFeatures) -> list:
    cached = getattr(photo, "_regions", None)
    if cached is not None:
        return cached
    g = photo.gray
    e = cv2.dilate(cv2.Canny(g, 40, 120), np.ones((3, 3), np.uint8))
    n, lab, st, _ = cv2.connectedComponentsWithStats((e == 0).astype(np.uint8), connectivity=4)
    h, w = g.shape
    lo, hi = (0.03 * max(h, w)) ** 2, 0.5 * h * w
    out = []
    for i in range(1, n):
        x, y, bw, bh, area = st[i]
        if not (lo <= area <= hi):
            continue
        r = _hu_from_mask((lab[y:y + bh, x:x + bw] == i).astype(np.uint8))
        if r is None:
            continue
        loghu, (cx, cy), a, th, an, cov = r
        out.append((loghu, (cx + x, cy + y), a, th, an, cov))
    photo._regions = out
    return out


SHAPE_ECC_COARSE = 9  # Gaussian size of the first, coarse ECC pass for a placement from moments
SHAPE_REFINE_MAX = 4  # placements by shape refined per solid logo and photo
SHAPE_STRETCH = 0.1  # |log| of the anisotropy ratio region/piece above which an affine placement is tried too


def _axes_maps(p_cov: np.ndarray, r_cov: np.ndarray) -> list[np.ndarray]:
    """2x2 maps taking a shape of covariance ``p_cov`` to one of covariance ``r_cov`` by aligning their
    principal axes (either direction: two maps, no mirror)."""
    lp, up = np.linalg.eigh(p_cov)
    lr, ur = np.linalg.eigh(r_cov)
    if lp.min() <= 1e-9 or lr.min() <= 1e-9:
        return []
    if np.linalg.det(up) < 0:
        up[:, 0] *= -1
    if np.linalg.det(ur) < 0:
        ur[:, 0] *= -1
    D = np.diag(np.sqrt(lr / lp))
    A = ur @ D @ up.T
    return [A, -A]


def shape_verify(photo: PhotoFeatures, t: LogoTemplate, ti: int, *, max_angle: float = 40.0) -> Detection | None:
    """Find a solid logo by the shape of its largest piece (see the comment above); None if absent."""
    piece = _largest_piece(t)
    if not piece:
        return None
    p_hu, (pcx, pcy), p_area, p_th, p_an, p_cov = piece
    regions = _photo_regions(photo)
    scored = sorted(((float(np.abs(r[0] - p_hu) @ HU_WEIGHTS), r) for r in regions), key=lambda x: x[0])
    placed = []  # (region rank, similarity, transform, angle, rel. width, parts)
    for rank, (dist, (hu, (cx, cy), area, th, an, cov)) in enumerate(scored[:SHAPE_MAX_REGIONS]):
        if dist > SHAPE_MAX_HU_DIST:
            break
        # the region lost about one pixel all round to the dilated edges: add it back to the area
        s = math.sqrt((area + 2 * math.sqrt(math.pi * area)) / p_area)
        if p_an > 1.25 and an > 1.15:
            d0 = th - p_th
            angles = [d0, d0 + 180.0, d0 - 180.0]
        else:
            angles = list(SHAPE_SWEEP)
        maps = []
        for ang in angles:
            if abs(ang) > max_angle:
                continue
            a = math.radians(ang)
            maps.append(np.array([[s * math.cos(a), -s * math.sin(a)], [s * math.sin(a), s * math.cos(a)]]))
        if p_an > 1.25 and an > 1.15 and abs(math.log(an / p_an)) > SHAPE_STRETCH:
            # the region is more or less elongated than the piece: the logo is seen at an angle (a
            # tilt foreshortens it). An affine placement maps the piece's principal axes onto the
            # region's, each scaled by the ratio of their spreads (moment normalisation)
            maps += _axes_maps(p_cov, cov)
        for R in maps:
            H = np.eye(3)
            H[:2, :2] = R
            H[:2, 2] = np.array([cx, cy]) - R @ np.array([pcx, pcy])
            ok, angle, rel = _plausible(H, t, photo, max_angle)
            if not ok:
                continue
            parts = dense_scores(H, t, photo)
            placed.append((rank, combine(parts), H, angle, rel, parts))
    # the coarse placements are refined (coarse to fine, then with perspective for a tilted sign),
    # at most SHAPE_REFINE_MAX of them: the best-fitting regions first, the most similar first
    placed.sort(key=lambda x: (x[0], -x[1]))
    best = None
    for n, (_rank, sim, H, angle, rel, parts) in enumerate(placed):
        if n < SHAPE_REFINE_MAX and sim < SHAPE_ECC_RANGE[1]:
            H2 = refine(refine(H, t, photo, blur=SHAPE_ECC_COARSE), t, photo)
            for H3 in (H2, refine(H2, t, photo, homography=True)):
                if H3 is H:
                    continue
                ok3, angle3, rel3 = _plausible(H3, t, photo, max_angle)
                parts3 = dense_scores(H3, t, photo) if ok3 else None
                if parts3 is not None and combine(parts3) > sim:
                    H, sim, angle, rel, parts = H3, combine(parts3), angle3, rel3, parts3
        if best is None or sim > best[0]:
            best = (sim, H, angle, rel, parts)
    if best is None:
        return None
    sim, H, angle, rel, parts = best
    return _detection(photo, t, ti, sim, H, 0, 0, angle, rel, parts, "shape")


def _detection(photo, t, ti, sim, H, n_in, votes, angle, rel, parts, kind) -> Detection:
    h, w = photo.gray.shape
    Ho = np.diag([1 / photo.scale, 1 / photo.scale, 1.0]) @ as3x3(H)
    pc = project(Ho, logo_corners(t))
    x0, y0 = pc.min(0)
    x1, y1 = pc.max(0)
    Hh, W = round(h / photo.scale), round(w / photo.scale)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(W, int(math.ceil(x1))), min(Hh, int(math.ceil(y1)))
    return Detection(template=ti, score=sim, inliers=n_in, votes=votes, matrix=Ho,
                     bbox=[x0, y0, x1 - x0, y1 - y0], angle=-angle, rel_width=rel,
                     parts={k: round(v, 3) for k, v in parts.items()}, transform=kind)


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
