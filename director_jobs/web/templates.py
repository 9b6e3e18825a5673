"""The Jinja2 environment of the pages: templates from the package, every value escaped."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from director_jobs import __version__
from director_jobs.validation import zone
from director_jobs.web import words


@functools.cache
def environment() -> Environment:
    """Built once per process: loading and compiling the templates takes milliseconds."""
    env = Environment(
        loader=PackageLoader("director_jobs.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),  # job output is never markup
        undefined=StrictUndefined,  # a misspelt name fails the test, not the operator
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = words.duration_words
    env.filters["status_class"] = words.status_class
    env.globals["version"] = __version__
    env.globals["schedule"] = words.schedule_words
    return env


def render(name: str, timezone: str, now: datetime | None, **values: Any) -> str:
    """The page `name` with `values`; times shown in `timezone`, ages counted from `now`."""
    instants = words.Instants(zone(timezone), now)
    template = environment().get_template(name)
    return template.render(
        local=instants.local, age=instants.age, now=now, timezone=timezone, **values
    )
