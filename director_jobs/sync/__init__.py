"""Sync rules: import rows → monitoring objects (mapping, filter, update policy, purge)."""
