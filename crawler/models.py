"""Tables the crawling stage owns (declared on store.models.Base; DDL in migration 0003).

* ``crawl_pages``: per source and listing, what the detail page looked like when last fetched
  (ETag, Last-Modified, SHA-256 of the body and where the raw HTML is kept), so re-crawls send
  conditional requests and skip unchanged pages, and evidence can be fixed from the page as fetched.
* ``evidence_captures``: one row per evidence capture of a listing (the folder under
  ``<data dir>/evidence/`` and its status); artefacts themselves are in the ledger.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, utcnow


class CrawlPage(Base):
    __tablename__ = "crawl_pages"
    __table_args__ = (UniqueConstraint("source", "listing_id", name="uq_crawl_page_source_listing"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(64))
    listing_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(256))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_path: Mapped[str | None] = mapped_column(Text)  # relative to the data dir
    screenshot_path: Mapped[str | None] = mapped_column(Text)  # live rooms: captured at crawl time
    status_code: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # migration 0010: the price as the page showed it, a range's upper end (the listing's price is
    # the lower end), and the page's named warnings [[kind, detail], ...] (e.g. price_on_request)
    price_text: Mapped[str | None] = mapped_column(Text)
    price_high: Mapped[float | None] = mapped_column(Float)
    warnings: Mapped[list | None] = mapped_column(JSON)


class EvidenceCapture(Base):
    __tablename__ = "evidence_captures"
    __table_args__ = (Index("ix_evidence_captures_listing", "listing_pk", "content_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_pk: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(64))
    listing_id: Mapped[str] = mapped_column(String(128))
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    run_id: Mapped[int | None] = mapped_column(Integer)
    directory: Mapped[str] = mapped_column(Text)  # relative to <data dir>/evidence
    captured_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | partial
    detail: Mapped[str | None] = mapped_column(Text)
