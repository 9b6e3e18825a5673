"""The process exit codes, one table (DESIGN.md §8; the README repeats it)."""

OK = 0  # done and nothing failed; clean shutdown; memory/lifetime recycle
JOB_FAILED = 1  # a job failed (one-shot), or the operation failed (already running, database down)
USAGE = 2  # bad command line or invalid input (names the field and the text)
CONFIG = 78  # EX_CONFIG: configuration unusable; systemd does not restart on it
SIGNALLED = 128  # + the signal's number: a one-shot run stopped by SIGTERM (143) or Ctrl-C (130)
