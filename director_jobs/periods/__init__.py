"""Icinga 2 TimePeriod ranges: parser and evaluator (pure, no I/O)."""
