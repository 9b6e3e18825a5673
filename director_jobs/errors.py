"""One error root for the whole package; subclasses name the intent, messages name the ids."""


class DirectorJobsError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(DirectorJobsError):
    """The configuration (file, environment, flags or database URL) is unusable."""


class DatabaseUnavailable(DirectorJobsError):
    """The database could not be reached; transient, worth a retry."""


class InvalidInput(DirectorJobsError, ValueError):
    """A user-supplied value is invalid; the message names the field and the offending text."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: invalid value {value!r}: {expected}")


class NotFound(DirectorJobsError, LookupError):
    """A named object (job, time period, run) does not exist."""


class AlreadyExists(DirectorJobsError):
    """A named object exists already."""


class UnknownJobType(NotFound):
    """No job type of that name is registered; the message lists the known ones."""


class JobAlreadyRunning(DirectorJobsError):
    """The job is claimed by another runner right now."""


class Unauthorized(DirectorJobsError):
    """A request came without a valid token (missing, unknown, expired or revoked)."""


class Forbidden(DirectorJobsError):
    """The caller's role does not allow what it asked for."""


class NotRunning(DirectorJobsError):
    """A stop was asked for a job or run that is not running."""


class Busy(DirectorJobsError):
    """The server has no room for this request now (all log-stream slots are taken)."""


class TriggerPending(DirectorJobsError):
    """A trigger with other parameters already waits for its run to start."""
