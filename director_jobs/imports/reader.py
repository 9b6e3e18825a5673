"""Read a source: provider rows → modifiers → keyed rows with checksums (nothing stored)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.imports.checksum import canonical_json, run_checksum, text_checksum
from director_jobs.imports.errors import ProviderError, SourceFailed
from director_jobs.imports.modifiers import Modifier, apply_modifiers, build_modifiers
from director_jobs.imports.providers import Provider, build_provider
from director_jobs.imports.spec import SourceSpec
from director_jobs.validation import has_unstorable, refuse_unstorable, storable, storable_data

MAX_KEY_LENGTH = 255  # import_run_rows.key is VARCHAR(255)


@dataclass(frozen=True)
class ImportData:
    """One read, by key: rows, their canonical JSON and checksums; and the run checksum."""

    rows: dict[str, dict[str, Any]]
    texts: dict[str, str]
    checksums: dict[str, str]
    checksum: str


@dataclass(frozen=True)
class CompiledSource:
    """A source whose provider and modifiers are built and checked."""

    spec: SourceSpec
    provider: Provider
    modifiers: list[Modifier]


def compile_source(spec: SourceSpec) -> CompiledSource:
    """Check a definition; InvalidInput names the field as `imports.NAME.…`."""
    where = f"imports.{spec.name}"
    for field_name in ("key_column", "settings", "modifiers", "description"):
        refuse_unstorable(getattr(spec, field_name), f"{where}.{field_name}")
    if not isinstance(spec.key_column, str) or not spec.key_column:
        raise InvalidInput(f"{where}.key_column", spec.key_column, "expected a column name")
    provider = build_provider(spec.provider, spec.settings, where)
    modifiers = build_modifiers(spec.modifiers, f"{where}.modifiers")
    return CompiledSource(spec, provider, modifiers)


def modified_rows(source: CompiledSource) -> Iterator[dict[str, Any]]:
    """The provider's rows after the modifiers; ProviderError on any failure."""
    for row in source.provider.rows():
        yield apply_modifiers(source.modifiers, row)


# How often read_source tells its caller how far it got: often enough for a progress line
# every second, rarely enough to cost nothing beside the rows themselves.
PROGRESS_EVERY_ROWS = 1000


def read_source(source: CompiledSource, on_rows: Callable[[int], None] | None = None) -> ImportData:
    """All rows keyed by the key column; SourceFailed names the source and the cause.
    `on_rows(n)` hears every PROGRESS_EVERY_ROWS rows how many were read."""
    name = source.spec.name
    key_column = source.spec.key_column
    rows: dict[str, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    checksums: dict[str, str] = {}
    try:
        for number, row in enumerate(modified_rows(source), start=1):
            if on_rows is not None and number % PROGRESS_EVERY_ROWS == 0:
                on_rows(number)
            key = row_key(row, key_column, number)
            try:
                text = canonical_json(row)
            except (TypeError, ValueError) as exc:
                raise ProviderError(f"row {number} (key {key!r}) is not JSON data: {exc}") from None
            if has_unstorable(text):  # NUL or a lone surrogate: no backend keeps them
                row, key = storable_data(row), storable(key)
                text = canonical_json(row)
            if key in rows:
                raise ProviderError(
                    f"duplicate key {key!r} in column {key_column!r} (row {number})"
                )
            texts[key] = text
            checksums[key] = text_checksum(text)
            rows[key] = row
    except ProviderError as exc:
        raise SourceFailed(name, str(exc)) from None
    except (InvalidInput, SourceFailed):
        raise
    except Exception as exc:  # a cut-off download, JSON nested too deep, a lone surrogate …
        raise SourceFailed(name, unexpected(exc)) from None
    return ImportData(rows, texts, checksums, run_checksum(checksums))


def unexpected(exc: Exception) -> str:
    """A failure no provider anticipated, for the run's error: its kind and message."""
    text = str(exc) or "no details"
    return f"{type(exc).__name__}: {text[:300]}"


def row_key(row: dict[str, Any], key_column: str, number: int) -> str:
    """The row's key as text; a missing, empty or over-long key is an error naming the row."""
    if key_column not in row:
        raise ProviderError(f"row {number} has no key column {key_column!r}")
    value = row[key_column]
    if value is None or value == "" or isinstance(value, list | dict | bool):
        raise ProviderError(
            f"row {number}: key column {key_column!r} has no usable value ({value!r})"
        )
    key = str(value)
    if len(key) > MAX_KEY_LENGTH:
        raise ProviderError(
            f"row {number}: key {key[:40]!r}… is longer than {MAX_KEY_LENGTH} characters"
        )
    return key


def preview_rows(source: CompiledSource, limit: int) -> list[dict[str, Any]]:
    """The first `limit` rows after the modifiers (nothing checked beyond reading them)."""
    rows: list[dict[str, Any]] = []
    try:
        for row in modified_rows(source):
            if len(rows) >= limit:
                break
            rows.append(row)
    except ProviderError as exc:
        raise SourceFailed(source.spec.name, str(exc)) from None
    except (InvalidInput, SourceFailed):
        raise
    except Exception as exc:
        raise SourceFailed(source.spec.name, unexpected(exc)) from None
    return rows
