"""Application services: the operations that the CLI and the HTTP API both call.

Each module owns one subject (jobs, periods, runs, tokens, …) and speaks in the domain's
terms; neither layer above runs SQL of its own.
"""
