"""Draw where a logo was found on a thumbnail of the photo (console cards and evidence packs)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .images import fit_within, open_image

BOX_COLOUR = (230, 20, 20)


def draw_detection(image: str | Path | Image.Image, boxes: list[dict], max_side: int = 480) -> Image.Image:
    """A thumbnail (longer side <= ``max_side``) with each box drawn and labelled.

    ``boxes`` are match evidence dicts (or anything with ``quad`` [[x, y]*4] or ``bbox`` [x, y, w, h]
    in original photo pixels) plus an optional ``label``. Raises ImageRejected for unreadable files.
    """
    img = image if isinstance(image, Image.Image) else open_image(image)
    img = img.convert("RGB")
    W = img.size[0]
    thumb = fit_within(img, max_side).copy()
    s = thumb.size[0] / W
    d = ImageDraw.Draw(thumb)
    width = max(2, round(max(thumb.size) / 160))
    try:
        font = ImageFont.load_default(max(10, round(max(thumb.size) / 32)))
    except TypeError:  # very old Pillow
        font = ImageFont.load_default()
    for b in boxes:
        if b.get("quad"):
            pts = [(x * s, y * s) for x, y in b["quad"]]
        elif b.get("bbox"):
            x, y, w, h = b["bbox"]
            pts = [(x * s, y * s), ((x + w) * s, y * s), ((x + w) * s, (y + h) * s), (x * s, (y + h) * s)]
        else:
            continue
        d.line(pts + [pts[0]], fill=BOX_COLOUR, width=width)
        label = b.get("label")
        if label:
            x0 = min(p[0] for p in pts)
            y0 = min(p[1] for p in pts)
            tb = d.textbbox((0, 0), label, font=font)
            ty = y0 - (tb[3] - tb[1]) - 2 * width if y0 > (tb[3] - tb[1]) + 2 * width else max(p[1] for p in pts) + width
            d.rectangle([x0, ty, x0 + tb[2] - tb[0] + 2 * width, ty + tb[3] - tb[1] + 2 * width], fill=BOX_COLOUR)
            d.text((x0 + width, ty + width - tb[1]), label, fill=(255, 255, 255), font=font)
    return thumb


def draw_match(listing_image_path: str | Path, evidence: dict, label: str | None = None,
               max_side: int = 480) -> Image.Image:
    """Convenience for one logo Match: ``draw_match(path, match.evidence, match.target_id)``."""
    return draw_detection(listing_image_path, [{**evidence, "label": label or evidence.get("label")}], max_side)
