"""Settings of the alerts stage and the scheduler (env prefix ``MARKWATCH_``).

Example::

    MARKWATCH_NOTIFY_URLS="mailto://user:pass@example.com json://127.0.0.1:8080/hook"
    MARKWATCH_HOLDER_NOTIFY_URLS='{"ent-moutai": "dingtalk://TOKEN"}'
    MARKWATCH_BUREAUS_FILE=/srv/markwatch/bureaus.yaml MARKWATCH_BUREAU=hz-xihu
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKWATCH_", extra="ignore")

    # -- notifications (apprise URLs; several separated by spaces or commas) --
    notify_urls: str = Field(default="", description="apprise URLs the daily digest is sent to")
    holder_notify_urls: dict[str, str] = Field(default_factory=dict,
                                               description="enterprise or GI id -> apprise URLs for holder digests")
    notify_attach: bool = Field(default=False, description="Attach the HTML and XLSX files to notifications")
    # -- jurisdiction --
    bureaus_file: Path | None = Field(default=None, description="Bureaus YAML (default: <data dir>/bureaus.yaml)")
    bureau: str | None = Field(default=None, description="This officer's bureau id: `leads list` default filter")
    actor: str | None = Field(default=None, description="Default --by for lead actions")
    # -- ranking and seller rules --
    repeat_infringer_min: int = Field(default=2, ge=1, description="Confirmed leads that make a repeat infringer")
    turnover_police: float = Field(default=50000.0, description="Estimated turnover (CNY) flagged for police transfer")
    key_market_window_days: int = Field(default=7, ge=1)
    key_market_min_shop: int = Field(default=3, ge=1, description="Leads in the window for a shop to enter")
    key_market_min_platform: int = Field(default=10, ge=1, description="Leads in the window for a platform to enter")
    # -- scheduling --
    timezone: str = Field(default="Asia/Shanghai", description="Time zone of digest dates and schedules")
    digest_time: str = Field(default="08:30", description="Daily digest time HH:MM (schedule)")
    pass_interval_minutes: int = Field(default=1440, ge=1, description="Full pass interval when no per-source interval")
    crawl_intervals: dict[str, int] = Field(default_factory=dict, description="source name -> minutes")
    misfire_grace_time: int = Field(default=3600, ge=1, description="Seconds a missed job may still run late")
    schedule_file: Path | None = Field(default=None, description="Schedule YAML (default: <data dir>/schedule.yaml)")

    def bureaus_path(self, data_dir: Path) -> Path | None:
        if self.bureaus_file:
            return self.bureaus_file
        p = data_dir / "bureaus.yaml"
        return p if p.is_file() else None


@lru_cache(maxsize=1)
def get_alert_settings() -> AlertSettings:
    return AlertSettings()


def reset_alert_settings_cache() -> None:
    get_alert_settings.cache_clear()
