"""Folded into the one `config.settings.Settings` (sections ``alerts``, ``schedule``, ``notify``).

Kept so old imports work: ``AlertSettings`` is ``Settings`` (flat attribute access such as
``ast.notify_urls`` or ``ast.timezone`` reads the section) and ``get_alert_settings()`` returns
the process's one settings object.
"""
from __future__ import annotations

from config.settings import Settings, get_settings, reset_settings_cache

AlertSettings = Settings


def get_alert_settings() -> Settings:
    return get_settings()


def reset_alert_settings_cache() -> None:
    reset_settings_cache()
