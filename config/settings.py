"""Typed settings for every markwatch command (pydantic-settings, env prefix ``MARKWATCH_``).

Example::

    MARKWATCH_DATA_DIR=/srv/markwatch MARKWATCH_DATABASE_URL=postgresql+psycopg://127.0.0.1/markwatch markwatch run
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_DIR = Path(__file__).resolve().parent
DATA_TABLES_DIR = CONFIG_DIR / "data"
SOURCES_DIR = CONFIG_DIR / "sources"


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
    # issue 17: matcher processes forked by a pass's match stage after loading (1 = no fork)
    match_workers: int = Field(default=1, ge=1, le=64, description="Matcher processes in a pass (forked after loading)")

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
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
