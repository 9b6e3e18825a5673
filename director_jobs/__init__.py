"""director-jobs: a job runner for monitoring and infrastructure automation."""

__version__ = "0.1.0"
