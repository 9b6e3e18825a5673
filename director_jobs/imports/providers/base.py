"""The provider interface: checked settings in, rows (dicts of JSON values) out."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from director_jobs.errors import InvalidInput
from director_jobs.imports.errors import ProviderError


class Provider(ABC):
    """Reads rows from somewhere; `rows()` raises ProviderError with the cause."""

    name: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Mapping[str, Any], where: str) -> None:
        self.settings = dict(settings)
        self.where = where
        allowed = self.required + self.optional
        for key in self.settings:
            if key not in allowed:
                raise InvalidInput(
                    f"{where}.{key}",
                    self.settings[key],
                    f"unknown setting; the {self.name} provider takes {', '.join(allowed)}",
                )
        for key in self.required:
            if key not in self.settings:
                raise InvalidInput(f"{where}.{key}", None, f"the {self.name} provider needs {key}")
        self.check()

    @abstractmethod
    def check(self) -> None:
        """Check the settings' shapes (not whether files or servers exist)."""

    @abstractmethod
    def rows(self) -> Iterator[dict[str, Any]]:
        """Yield the rows; raise ProviderError naming the cause."""

    def masked_settings(self) -> dict[str, Any]:
        """The settings as they may be shown (secrets masked)."""
        return dict(self.settings)

    # -- helpers for check() -------------------------------------------------------------

    def text(self, key: str, default: str | None = None, *, empty: bool = False) -> str | None:
        """A string setting (None when absent and no default)."""
        value = self.settings.get(key, default)
        if value is not None and (not isinstance(value, str) or (not empty and not value)):
            raise InvalidInput(f"{self.where}.{key}", value, "expected a non-empty string")
        return value

    def path(self, key: str) -> Path | None:
        """An absolute file path setting."""
        value = self.text(key)
        if value is None:
            return None
        if not Path(value).is_absolute():
            raise InvalidInput(f"{self.where}.{key}", value, "expected an absolute path")
        return Path(value)

    def flag(self, key: str, default: bool) -> bool:
        """A true/false setting."""
        value = self.settings.get(key, default)
        if not isinstance(value, bool):
            raise InvalidInput(f"{self.where}.{key}", value, "expected true or false")
        return value

    def seconds(self, key: str, default: float) -> float:
        """A positive number of seconds."""
        value = self.settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
            raise InvalidInput(f"{self.where}.{key}", value, "expected seconds, > 0 and ≤ 3600")
        return float(value)


def json_value(value: Any, column: str) -> Any:
    """A database value as JSON: datetimes as ISO text, decimals as numbers, UUIDs as text."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ProviderError(f"column {column!r}: {value} is not a JSON number")
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ProviderError(f"column {column!r}: {value} is not a JSON number")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ProviderError(f"column {column!r}: binary data that is not UTF-8 text") from None
    if isinstance(value, list | tuple):
        return [json_value(v, column) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v, column) for k, v in value.items()}
    return str(value)
