"""Row providers, one module each; `build_provider` picks one by name and checks its settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from director_jobs.errors import InvalidInput
from director_jobs.imports.providers.base import Provider
from director_jobs.imports.providers.csv_source import CsvProvider
from director_jobs.imports.providers.json_source import JsonProvider, mask_url
from director_jobs.imports.providers.sql_source import SqlProvider

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    cls.name: cls for cls in (CsvProvider, JsonProvider, SqlProvider)
}


def build_provider(name: str, settings: Mapping[str, Any], where: str) -> Provider:
    """The provider `name` with its checked settings; errors name `where.provider` or a setting."""
    if name not in PROVIDER_CLASSES:
        raise InvalidInput(
            f"{where}.provider", name, f"expected one of {', '.join(PROVIDER_CLASSES)}"
        )
    if not isinstance(settings, Mapping):
        raise InvalidInput(f"{where}.settings", settings, "expected a table")
    return PROVIDER_CLASSES[name](settings, f"{where}.settings")


def masked_settings(name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as they may be shown: a password in any URL masked, even if the rest is invalid."""
    try:
        return build_provider(name, settings, "settings").masked_settings()
    except InvalidInput:
        shown = dict(settings)
        if isinstance(shown.get("url"), str):
            shown["url"] = _mask_any_url(shown["url"])
        return shown


def _mask_any_url(url: str) -> str:
    """An http(s) or database URL with its password masked; '***' when it cannot be parsed."""
    if url.startswith(("http://", "https://")):
        return mask_url(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "***"


__all__ = ["PROVIDER_CLASSES", "Provider", "build_provider", "masked_settings"]
