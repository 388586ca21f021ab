"""SQLAlchemy 2.0 models: the watchlist, sources, listings (with history), images, leads, runs."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Enterprise(Base):
    __tablename__ = "enterprises"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    qualifications: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    marks: Mapped[list["Mark"]] = relationship(back_populates="enterprise", cascade="all, delete-orphan")
    authorized_sellers: Mapped[list["AuthorizedSeller"]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan")


class Mark(Base):
    __tablename__ = "marks"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # word | logo
    text: Mapped[str | None] = mapped_column(String(256))
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    image: Mapped[str | None] = mapped_column(String(1024))  # stored copy under the data dir
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    nice_classes: Mapped[list] = mapped_column(JSON, default=list)
    well_known: Mapped[bool] = mapped_column(Boolean, default=False)
    reference_price: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    enterprise: Mapped[Enterprise] = relationship(back_populates="marks")
    registration_number: Mapped[str | None] = mapped_column(String(64))  # 注册号 (migration 0005)
    # 类似群 groups, per-goods reference prices and their currency (migration 0008)
    similar_groups: Mapped[list | None] = mapped_column(JSON, default=list)
    reference_prices: Mapped[dict | None] = mapped_column(JSON, default=dict)
    reference_currency: Mapped[str | None] = mapped_column(String(3))


class AuthorizedSeller(Base):
    __tablename__ = "authorized_sellers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    gi_id: Mapped[str | None] = mapped_column(ForeignKey("geographical_indications.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str | None] = mapped_column(String(64))
    seller_id: Mapped[str | None] = mapped_column(String(128))
    seller_name: Mapped[str | None] = mapped_column(String(256))
    enterprise: Mapped[Enterprise | None] = relationship(back_populates="authorized_sellers")


class GeographicalIndication(Base):
    __tablename__ = "geographical_indications"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    product: Mapped[str] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(256))
    admin_codes: Mapped[list] = mapped_column(JSON, default=list)
    places: Mapped[list] = mapped_column(JSON, default=list)
    nice_classes: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    authorized_users: Mapped[list[AuthorizedSeller]] = relationship(cascade="all, delete-orphan")


class Source(Base):
    """A crawl source (platform) as configured in config/sources/*.yaml, with its last state."""
    __tablename__ = "sources"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="marketplace")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str | None] = mapped_column(String(32))


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("platform", "listing_id", name="uq_listing_platform_id"),
                      Index("ix_listings_match_state", "match_state"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(64))
    listing_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="listing")
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(8), default="CNY")
    sales: Mapped[int | None] = mapped_column(Integer)
    seller_id: Mapped[str] = mapped_column(String(128), default="", index=True)
    seller_name: Mapped[str] = mapped_column(String(256), default="")
    seller_location: Mapped[str] = mapped_column(String(256), default="")
    origin: Mapped[str | None] = mapped_column(String(256))
    category: Mapped[str] = mapped_column(String(256), default="")
    images: Mapped[list] = mapped_column(JSON, default=list)  # as crawled: URLs or paths
    captured_at: Mapped[str] = mapped_column(String(64), default="")
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | removed
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # pending: to be matched; done: matched at matched_hash; error: matching failed (see match_error)
    match_state: Mapped[str] = mapped_column(String(16), default="pending")
    matched_hash: Mapped[str | None] = mapped_column(String(64))
    match_error: Mapped[str | None] = mapped_column(Text)
    local_dir: Mapped[str | None] = mapped_column(Text)  # base dir for relative image paths
    snapshots: Mapped[list["ListingSnapshot"]] = relationship(back_populates="listing", cascade="all, delete-orphan",
                                                              order_by="ListingSnapshot.id")


class ListingSnapshot(Base):
    """Price and sales history: one row per change seen by a crawl."""
    __tablename__ = "listing_snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_pk: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    price: Mapped[float | None] = mapped_column(Float)
    sales: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    run_id: Mapped[int | None] = mapped_column(Integer)
    listing: Mapped[Listing] = relationship(back_populates="snapshots")


class Image(Base):
    """A distinct image by content hash: stored and analysed once."""
    __tablename__ = "images"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | rejected
    error: Mapped[str | None] = mapped_column(Text)
    ocr: Mapped[list | None] = mapped_column(JSON)  # cached OCR result
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ListingImage(Base):
    __tablename__ = "listing_images"
    listing_pk: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (UniqueConstraint("listing_pk", "target_id", name="uq_lead_listing_target"),
                      Index("ix_leads_status_priority", "status", "priority"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_pk: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[str] = mapped_column(String(128), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # word | logo | gi
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    priority_reasons: Mapped[list] = mapped_column(JSON, default=list)
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    first_run_id: Mapped[int | None] = mapped_column(Integer)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    related_lead_id: Mapped[int | None] = mapped_column(Integer)  # relisting of an earlier lead
    jurisdiction: Mapped[str | None] = mapped_column(String(64), index=True)  # bureau id (alerts/jurisdiction.py)
    # Officer's verdict (confirmed | dismissed), kept when the lead moves on to referred/closed.
    verdict: Mapped[str | None] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)  # dismissal reason, suppression note, ...
    referred_to: Mapped[str | None] = mapped_column(String(64))
    suppression_id: Mapped[int | None] = mapped_column(Integer)  # the rule that suppressed this lead
    listing: Mapped[Listing] = relationship()
    events: Mapped[list["LeadEvent"]] = relationship(back_populates="lead", cascade="all, delete-orphan",
                                                     order_by="LeadEvent.id")


class LeadEvent(Base):
    """Audit trail of a lead: every status change with who, when and why."""
    __tablename__ = "lead_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128), default="system")
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    lead: Mapped[Lead] = relationship(back_populates="events")


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), default="run")  # run | crawl | match | demo
    trigger: Mapped[str] = mapped_column(String(16), default="manual")  # manual | cron | schedule
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | partial | failed | interrupted
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(128))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    durations: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[list["RunFailure"]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                        order_by="RunFailure.id")


class RunFailure(Base):
    """A named failure of one page or item: removed, blocked, captcha, rate_limited, timeout,
    parse_error, http_error, bad_listing, match_error, image_error, watchlist_row, stage_failed."""
    __tablename__ = "run_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    run: Mapped[Run] = relationship(back_populates="failures")


class RunLock(Base):
    """One row per named lock; a pass holds 'pass' while it runs."""
    __tablename__ = "run_locks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(256))
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EvidenceRecord(Base):
    """Append-only, hash-chained ledger of evidence artefacts (证据固定)."""
    __tablename__ = "evidence_ledger"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_pk: Mapped[int | None] = mapped_column(Integer, index=True)
    platform: Mapped[str] = mapped_column(String(64), default="")
    listing_id: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(32))  # html | screenshot | image | meta
    path: Mapped[str] = mapped_column(Text)  # relative to <data dir>/evidence
    url: Mapped[str | None] = mapped_column(Text)
    captured_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Suppression(Base):
    """An officer's verdict turned into a rule: a seller or a phrase confirmed legitimate for a
    mark/GI (or for every target when target_id is NULL). New leads it matches are created with
    status 'suppressed' and counted in `hits`; removing the rule restores them to 'new'."""
    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # seller | phrase
    target_id: Mapped[str | None] = mapped_column(String(128))
    platform: Mapped[str | None] = mapped_column(String(64))
    seller_id: Mapped[str | None] = mapped_column(String(128))
    seller_name: Mapped[str | None] = mapped_column(String(256))
    phrase: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text, default="")
    source_lead_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    removed_by: Mapped[str | None] = mapped_column(String(128))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class KeyMarket(Base):
    """The key-market list (重点关注市场名录): platforms and shops entered and left by rule."""
    __tablename__ = "key_markets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))  # platform | shop
    platform: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[str] = mapped_column(String(128), default="")
    shop_name: Mapped[str] = mapped_column(String(256), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    enter_reason: Mapped[str] = mapped_column(Text, default="")
    leave_reason: Mapped[str | None] = mapped_column(Text)
    lead_count: Mapped[int] = mapped_column(Integer, default=0)  # leads in the window at the last check


# -- web console (issue 15; migration 0004) ---------------------------------------------------

class WebUser(Base):
    """A console account. role: admin | officer | holder; a holder is bound to one enterprise
    (or, for a GI authority, one GI id) and sees only that holder's marks and leads."""
    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id (argon2-cffi)
    role: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """Server-side session: the cookie carries a random token, the table its SHA-256."""
    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))


class WebAudit(Base):
    """Audit log of every console action (logins, failed logins, page writes, API writes)."""
    __tablename__ = "web_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(256))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")  # ok | refused | error
    detail: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """Failed logins, for throttling by user name and by client address."""
    __tablename__ = "web_login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(128), index=True)
    ip: Mapped[str | None] = mapped_column(String(64), index=True)


class HolderGI(Base):
    """Which holder (enterprise id) registered a GI through the console: that holder sees its leads."""
    __tablename__ = "web_holder_gis"
    gi_id: Mapped[str] = mapped_column(ForeignKey("geographical_indications.id", ondelete="CASCADE"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(128), index=True)


# --- re-match state (issue 16 item 5; owned by pipeline/stages.py rematch) -----------------------

class TargetMatchState(Base):
    """Which content of a mark or GI the stored listings were matched against.

    ``matched_hash`` is the target's content hash (store.repo.target_hashes) that every stored
    listing has been matched against; a target whose current hash differs (new, edited by the
    CLI, the console or a re-import) is re-matched against the stored listings by the next pass.
    ``pending_hash`` and ``cursor`` (last listing id done) let a killed re-match resume.
    """
    __tablename__ = "target_match_state"
    target_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # word | logo | gi
    matched_hash: Mapped[str | None] = mapped_column(String(64))
    pending_hash: Mapped[str | None] = mapped_column(String(64))
    cursor: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


# ---- issue 16 (h16): which enterprise/GI and which file each watchlist id belongs to ----------
class WatchlistId(Base):
    """One row per enterprise, mark and GI id: its kind (enterprise|mark|gi), its owner (the
    enterprise of a mark; itself otherwise) and the file it was last imported from."""
    __tablename__ = "watchlist_ids"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(String(128))
    file: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
