"""The HTTP API (`director serve`): thin FastAPI routers over the services, tokens, errors.

Only `director serve` imports this package: the runner and the one-shot CLI never load
the web stack.
"""
