"""The threads that run the database side of requests, one hand-over per request.

Handlers are `async def` and send all their blocking work (the token check included) to
this pool in one go. FastAPI's own way, a thread for each `def` dependency and one for the
endpoint through anyio, cost 0.17 ms of CPU per hand-over here against 0.09 ms for a plain
executor, and a request made two or three of them (docs/benchmarks.md, "Mixed load").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Threads that run request work; the database pool keeps as many connections. Python
# runs one of them at a time (the GIL), so more threads only take turns: on the 2-core VM
# reads at 32 connections served ~130 req/s with 16 threads, ~205 with 4, ~210 with 2.
# Four, not two, so that a request waiting for SQLite's write lock (busy_timeout) or a
# slow PostgreSQL query does not hold up most of the others.
REQUEST_THREADS = 4

_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """The process's request threads, made on first use (a one-shot CLI never needs them)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(REQUEST_THREADS, thread_name_prefix="request")
    return _pool


async def in_thread(work: Callable[..., T], *args: object) -> T:
    """`work(*args)` run in a request thread; its result, or its exception raised here."""
    return await asyncio.get_running_loop().run_in_executor(pool(), work, *args)
