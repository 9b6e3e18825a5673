"""Errors of the import side: a provider's cause, and a source that failed (named)."""

from __future__ import annotations

from director_jobs.errors import DirectorJobsError


class ProviderError(DirectorJobsError):
    """A provider could not deliver rows; the message is the cause, without the source name."""


class SourceFailed(DirectorJobsError):
    """An import source failed; the message names the source and the cause."""

    def __init__(self, source: str, cause: str) -> None:
        self.source = source
        self.cause = cause
        super().__init__(f"import source {source!r}: {cause}")
