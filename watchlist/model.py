"""The watchlist: enterprises, their word and logo marks, authorised sellers, and GIs.

Field names follow the watchlist YAML contract in DESIGN.md.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError


@lru_cache(maxsize=1)
def _similar_group_codes() -> frozenset[str]:
    """The 类似群 codes of the shipped table (config/data/similar_goods.json)."""
    from config.settings import DATA_TABLES_DIR
    return frozenset(json.loads((DATA_TABLES_DIR / "similar_goods.json").read_text(encoding="utf-8"))["groups"])


class _Strict(BaseModel):
    """Strings are stripped, and a blank optional field is absent (None): a value means the same
    whether it came from YAML, a CSV cell or an XLSX cell, so round trips are lossless."""
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data):
        if isinstance(data, dict):
            for k, v in list(data.items()):
                f = cls.model_fields.get(k)
                if f is not None and f.default is None and isinstance(v, str) and not v.strip():
                    data = {**data, k: None}
        return data


class AuthorizedSeller(_Strict):
    platform: str | None = None  # None: any platform
    seller_id: str | None = None
    seller_name: str | None = None

    @model_validator(mode="after")
    def _one_key(self):
        if not (self.seller_id or self.seller_name):
            raise PydanticCustomError("seller_needs_key", "needs seller_id or seller_name")
        return self


class Mark(_Strict):
    id: str = Field(min_length=1)
    kind: Literal["word", "logo"]
    text: str | None = None
    aliases: list[str] = Field(default_factory=list)
    image: str | None = None  # logo: path relative to the watchlist file
    nice_classes: list[int] = Field(default_factory=list)
    well_known: bool = False
    reference_price: float | None = Field(default=None, gt=0, le=1e8)  # CNY
    registration_number: str | None = Field(default=None, max_length=64)  # 注册号 (shown in referral records)
    # 类似群 codes of the CNIPA 类似商品和服务区分表 ('2507' = 鞋), for marks registered by group.
    similar_groups: list[str] = Field(default_factory=list)
    # Reference prices per goods: keys are Nice classes (25) or 类似群 groups ('2507'); a price
    # applies only to listings of those goods (cheap genuine socks are not "7% of ¥899").
    reference_prices: dict[str, float] = Field(default_factory=dict)
    reference_currency: str = "CNY"  # ISO 4217 code of the reference prices

    @field_validator("similar_groups", mode="before")
    @classmethod
    def _groups_known(cls, v) -> list[str]:
        # YAML reads 2507 unquoted as a number (and 0901 as 901): accept it as the code
        v = [f"{g:04d}" if isinstance(g, int) and not isinstance(g, bool) else g for g in (v or [])]
        known = _similar_group_codes()
        for g in v:
            if not isinstance(g, str):
                raise PydanticCustomError("group_code", "类似群 {value!r} is not a four-digit code such as '2507'",
                                          {"value": g})
            if g not in known:
                raise PydanticCustomError("group_unknown", "类似群 {value!r} is not a group of the 类似商品和服务区分表 "
                                          "(four digits, e.g. '2507')", {"value": g})
        return v

    @field_validator("reference_prices", mode="before")
    @classmethod
    def _ref_prices(cls, v):
        out = {}
        for k, p in (v or {}).items():
            key = str(k).strip()
            if not (key.isdigit() and (1 <= int(key) <= 45 and len(key) <= 2 or len(key) == 4)):
                raise PydanticCustomError("ref_prices_key", "reference_prices key {value!r} is not a Nice class "
                                          "(1-45) or a 4-digit 类似群 group", {"value": k})
            try:
                price = float(p)
            except (TypeError, ValueError):
                raise PydanticCustomError("ref_prices_value", "reference_prices[{key}] is not a number: {value!r}",
                                          {"key": key, "value": p}) from None
            if not 0 < price <= 1e8:
                raise PydanticCustomError("ref_prices_range", "reference_prices[{key}] must be > 0 and at most 1e8",
                                          {"key": key})
            out[key] = price
        return out

    @field_validator("nice_classes")
    @classmethod
    def _nice_range(cls, v: list[int]) -> list[int]:
        for c in v:
            if not 1 <= c <= 45:
                raise PydanticCustomError("nice_class_range", "Nice class {value} is not a number between 1 and 45",
                                          {"value": c})
        return v

    @model_validator(mode="after")
    def _kind_fields(self):
        if self.kind == "word" and not (self.text and self.text.strip()):
            raise PydanticCustomError("word_needs_text", "a word mark needs 'text'")
        if self.kind == "logo" and not self.image:
            raise PydanticCustomError("logo_needs_image", "a logo mark needs 'image'")
        return self


class Enterprise(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    qualifications: list[str] = Field(default_factory=list)
    authorized_sellers: list[AuthorizedSeller] = Field(default_factory=list)
    marks: list[Mark] = Field(default_factory=list)


class Region(_Strict):
    admin_codes: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)

    @field_validator("admin_codes", mode="before")
    @classmethod
    def _codes(cls, v):
        out = []
        for c in v or []:
            s = str(c).strip()
            if not (s.isdigit() and len(s) == 6):
                raise PydanticCustomError("admin_code_format", "admin code {value!r} is not a 6-digit GB/T 2260 code",
                                          {"value": c})
            out.append(s)
        return out

    @field_validator("admin_codes")
    @classmethod
    def _codes_known(cls, v):
        from matcher.geo import check_admin_code  # the gazetteer (GB/T 2260, NBS 2023 codes)

        bad = [(c, e) for c, e in ((c, check_admin_code(c)) for c in v) if e]
        if bad:
            raise PydanticCustomError("admin_code_unknown", "{detail}",
                                      {"value": ", ".join(c for c, _ in bad), "detail": "; ".join(e for _, e in bad)})
        return v

    @field_validator("places")
    @classmethod
    def _places_exact(cls, v):
        """Each place must name one division exactly: a region is never silently widened."""
        from matcher.geo import check_region_place

        bad = [(p, e) for p, (_, e) in ((p, check_region_place(p)) for p in v) if e]
        if bad:
            raise PydanticCustomError("place_inexact", "{detail}",
                                      {"value": "、".join(p for p, _ in bad), "detail": "; ".join(e for _, e in bad)})
        return v

    @model_validator(mode="after")
    def _some(self):
        if not (self.admin_codes or self.places):
            raise PydanticCustomError("region_needs_place", "a region needs admin_codes or places")
        return self


class GeographicalIndication(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    product: str = Field(min_length=1)
    category: str | None = None
    region: Region
    authorized_users: list[AuthorizedSeller] = Field(default_factory=list)
    nice_classes: list[int] = Field(default_factory=list)


class Watchlist(_Strict):
    version: int = 1
    enterprises: list[Enterprise] = Field(default_factory=list)
    geographical_indications: list[GeographicalIndication] = Field(default_factory=list)
    # Not part of the file: where it was loaded from, to resolve logo image paths.
    base_dir: Path | None = Field(default=None, exclude=True)

    def marks(self):
        """Yield (enterprise, mark) pairs."""
        for ent in self.enterprises:
            for m in ent.marks:
                yield ent, m

    def word_marks(self):
        return [(e, m) for e, m in self.marks() if m.kind == "word"]

    def logo_marks(self):
        return [(e, m) for e, m in self.marks() if m.kind == "logo"]

    def logo_path(self, mark: Mark) -> Path:
        p = Path(mark.image or "")
        if not p.is_absolute() and self.base_dir is not None:
            p = self.base_dir / p
        return p
