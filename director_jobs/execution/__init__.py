"""Running work outside the runner's own code: child processes, timeouts, process-tree kill."""
