"""Runners as a group: the registry of live runners and their heartbeats."""
