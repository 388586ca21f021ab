"""The one typed `Settings` of every markwatch command (pydantic-settings, env prefix ``MARKWATCH_``).

Built once per process (``get_settings()``) and passed down; no module reads ``os.environ`` for a
``MARKWATCH_*`` variable itself. Nested sections group what each stage needs:

- ``settings.crawl``    crawl timeout, Redis frontier (``MARKWATCH_REDIS_URL``), browser, sandbox
- ``settings.alerts``   jurisdiction, actor, ranking and key-market rules
- ``settings.schedule`` time zone, digest time, pass interval, per-source intervals
- ``settings.notify``   apprise URLs for the digest and for holders, attachments

Environment names stay flat and as documented (``MARKWATCH_NOTIFY_URLS``, ``MARKWATCH_TIMEZONE``,
...), and so does attribute access: ``settings.timezone`` is ``settings.schedule.timezone``.
Keyword arguments are routed to their section too: ``Settings(notify_urls="json://...")``.

Example::

    MARKWATCH_DATA_DIR=/srv/markwatch MARKWATCH_DATABASE_URL=postgresql+psycopg://127.0.0.1/markwatch markwatch run
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_DIR = Path(__file__).resolve().parent
DATA_TABLES_DIR = CONFIG_DIR / "data"
SOURCES_DIR = CONFIG_DIR / "sources"

_ENV = SettingsConfigDict(env_prefix="MARKWATCH_", extra="ignore")


class CrawlSettings(BaseSettings):
    """How crawls run (env MARKWATCH_<FIELD>)."""
    model_config = _ENV

    crawl_timeout: float = Field(default=6 * 3600, gt=0, description="Seconds one crawl process may run")
    redis_url: str | None = Field(default=None, description="Share the crawl frontier and dupefilter between "
                                                            "crawler processes (scrapy-redis), e.g. redis://127.0.0.1:6379/0")
    redis_persist: bool = Field(default=False, description="Keep the Redis frontier between crawls")
    crawl_id: str | None = Field(default=None, description="Redis key prefix of one crawl (default: the date)")
    redis_lease: float = Field(default=30.0, ge=2, description="Seconds a silent crawl process keeps the requests "
                                                               "it took from the shared frontier before another "
                                                               "process puts them back (crawler/frontier.py)")
    chromium: str | None = Field(default=None, description="Chromium executable (default: /usr/bin/chromium)")
    sandbox_cache: Path | None = Field(default=None, description="Cache of the bundled sandbox's generated images")
    cv_threads: int | None = Field(default=None, ge=1, description="OpenCV threads for logo search")


class AlertsSettings(BaseSettings):
    """Jurisdiction, actor, ranking and key-market rules (env MARKWATCH_<FIELD>)."""
    model_config = _ENV

    bureaus_file: Path | None = Field(default=None, description="Bureaus YAML (default: <data dir>/bureaus.yaml)")
    bureau: str | None = Field(default=None, description="This officer's bureau id: `leads list` default filter")
    actor: str | None = Field(default=None, description="Default --by for lead actions")
    repeat_infringer_min: int = Field(default=2, ge=1, description="Confirmed leads that make a repeat infringer")
    turnover_police: float = Field(default=50000.0, description="Estimated turnover (CNY) flagged for police transfer")
    key_market_window_days: int = Field(default=7, ge=1)
    key_market_min_shop: int = Field(default=3, ge=1, description="Leads in the window for a shop to enter")
    key_market_min_platform: int = Field(default=10, ge=1, description="Leads in the window for a platform to enter")

    def bureaus_path(self, data_dir: Path) -> Path | None:
        if self.bureaus_file:
            return self.bureaus_file
        p = data_dir / "bureaus.yaml"
        return p if p.is_file() else None


class ScheduleSettings(BaseSettings):
    """The scheduler and digest dates (env MARKWATCH_<FIELD>)."""
    model_config = _ENV

    timezone: str = Field(default="Asia/Shanghai", description="Time zone of digest dates and schedules")
    digest_time: str = Field(default="08:30", description="Daily digest time HH:MM (schedule)")
    pass_interval_minutes: int = Field(default=1440, ge=1, description="Full pass interval when no per-source interval")
    crawl_intervals: dict[str, int] = Field(default_factory=dict, description="source name -> minutes")
    misfire_grace_time: int = Field(default=3600, ge=1, description="Seconds a missed job may still run late")
    schedule_file: Path | None = Field(default=None, description="Schedule YAML (default: <data dir>/schedule.yaml)")


class NotifySettings(BaseSettings):
    """Where digests are sent (apprise URLs; several separated by spaces or commas)."""
    model_config = _ENV

    notify_urls: str = Field(default="", description="apprise URLs the daily digest is sent to")
    holder_notify_urls: dict[str, str] = Field(default_factory=dict,
                                               description="enterprise or GI id -> apprise URLs for holder digests")
    notify_attach: bool = Field(default=False, description="Attach the HTML and XLSX files to notifications")


SECTIONS: dict[str, type[BaseSettings]] = {"crawl": CrawlSettings, "alerts": AlertsSettings,
                                           "schedule": ScheduleSettings, "notify": NotifySettings}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKWATCH_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Where the database, evidence, images and digests live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in the data directory")
    watchlist: Path | None = Field(default=None, description="Watchlist file `markwatch run` imports before a pass (optional)")
    sources_dir: Path = Field(default=SOURCES_DIR, description="Folder of source definitions (*.yaml)")
    queue_threshold: int = Field(default=60, ge=0, le=100, description="Lowest score that becomes a lead")
    language: str = Field(default="zh-CN", description="Language of reasons, digests and console (zh-CN or en)")
    ocr_enabled: bool = Field(default=True, description="Read text printed in listing images")
    ocr_budget: int = Field(default=2000, ge=0, description="Most images OCR'd per run (cached images are free)")
    logo_enabled: bool = Field(default=True, description="Look for registered logos in listing images")
    run_lock_wait: float = Field(default=0.0, ge=0, description="Seconds a run waits for another run's lock before giving up")
    log_level: str = "INFO"
    # Trusted timestamps (RFC 3161) of the evidence-ledger head and referral packs (store/tsa.py).
    tsa_url: str | None = Field(default=None, description="RFC 3161 timestamp authority URL (none: no tokens)")
    tsa_ca_file: Path | None = Field(default=None, description="PEM root(s) of the TSA, to verify token signatures")
    tsa_timeout: float = Field(default=20.0, gt=0, description="Seconds to wait for the TSA")
    # issue 17: matcher processes forked by a pass's match stage after loading (1 = no fork)
    match_workers: int = Field(default=1, ge=1, le=64, description="Matcher processes in a pass (forked after loading)")

    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)

    @model_validator(mode="before")
    @classmethod
    def _route_flat_keys(cls, data: Any) -> Any:
        """`Settings(timezone=...)` sets schedule.timezone (the environment is read by each
        section itself, under the same flat names)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, section in SECTIONS.items():
            mine = {k: data.pop(k) for k in list(data) if k in section.model_fields and k not in cls.model_fields}
            if mine:
                cur = data.get(name)
                base = cur.model_dump() if isinstance(cur, BaseSettings) else dict(cur or {})
                data[name] = section(**{**base, **mine})
        return data

    def __getattr__(self, name: str) -> Any:
        # Old flat access (settings.timezone, ast.notify_urls, ast.bureaus_path(...)) reads the section.
        if not name.startswith("_"):
            d = self.__dict__
            for sec in SECTIONS:
                obj = d.get(sec)
                if obj is not None and (name in type(obj).model_fields or name == "bureaus_path" and sec == "alerts"):
                    return getattr(obj, name)
        return super().__getattr__(name)

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'markwatch.db'}"

    def ensure_dirs(self) -> Path:
        d = self.resolved_data_dir
        d.mkdir(parents=True, exist_ok=True)
        return d


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built once from the environment."""
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
