"""`csv`: rows from a delimited text file; the header line (or a list) names the columns."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.imports.errors import ProviderError
from director_jobs.imports.providers.base import Provider


class CsvProvider(Provider):
    """Settings: path, delimiter (','), encoding ('utf-8'), header (true, or a list of names)."""

    name = "csv"
    required = ("path",)
    optional = ("delimiter", "encoding", "header")

    def check(self) -> None:
        """Check the path, a one-character delimiter, a known encoding and the header."""
        file = self.path("path")
        assert file is not None  # required
        self.file = file
        delimiter = self.text("delimiter", ",")
        if delimiter is None or len(delimiter) != 1 or delimiter in '\r\n"':
            raise InvalidInput(
                f"{self.where}.delimiter", delimiter, "expected one character such as , ; or \\t"
            )
        self.delimiter = delimiter
        encoding = self.text("encoding", "utf-8") or "utf-8"
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise InvalidInput(
                f"{self.where}.encoding", encoding, "expected an encoding such as utf-8 or latin-1"
            ) from None
        # A UTF-8 file written by a spreadsheet often starts with a byte-order mark.
        self.encoding = "utf-8-sig" if codec == "utf-8" else codec
        self.encoding_shown = codec  # in messages: what the user wrote, not utf-8-sig
        header = self.settings.get("header", True)
        if header is not True and not _names(header):
            raise InvalidInput(
                f"{self.where}.header",
                header,
                "expected true (the first line names the columns) or a list of distinct names",
            )
        self.header: list[str] | None = None if header is True else list(header)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Read the file line by line; errors name the line."""
        try:
            with self.file.open(encoding=self.encoding, newline="") as handle:
                reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
                try:
                    yield from self._records(reader)
                except csv.Error as exc:
                    raise ProviderError(
                        f"bad CSV in {str(self.file)!r} at line {reader.line_num}: {exc}"
                    ) from None
        except OSError as exc:
            raise ProviderError(f"cannot read {str(self.file)!r}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ProviderError(
                f"{str(self.file)!r} is not {self.encoding_shown} text "
                f"(byte {exc.start} of a read block: {exc.reason}); set encoding"
            ) from None

    def _records(self, reader: Any) -> Iterator[dict[str, Any]]:
        """Pair each line's fields with the column names."""
        columns = self.header
        empty = True
        for fields in reader:
            if not fields:
                continue  # a blank line
            empty = False
            if columns is None:
                if not _names(fields):
                    raise ProviderError(
                        f"bad header line in {str(self.file)!r}: "
                        "column names must be distinct and non-empty"
                    )
                columns = fields
                continue
            if len(fields) != len(columns):
                raise ProviderError(
                    f"bad CSV in {str(self.file)!r} at line {reader.line_num}: "
                    f"{len(fields)} fields, expected {len(columns)}"
                )
            yield dict(zip(columns, fields, strict=True))
        if empty:
            # A truncated export is usually an empty file: never read it as "no hosts".
            raise ProviderError(f"{str(self.file)!r} is empty: not even a header line")


def _names(value: Any) -> bool:
    """True for a non-empty list of distinct, non-empty strings."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and v for v in value)
        and len(set(value)) == len(value)
    )
