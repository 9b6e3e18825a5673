"""/api/v1/timeperiods: the periods, whether each is active, and their windows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from director_jobs.api.auth import viewer
from director_jobs.api.context import ApiContext, context
from director_jobs.api.routes import params
from director_jobs.services.shapes import iso, period_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/timeperiods", tags=["timeperiods"])


@router.get("")
def list_periods(
    api: ApiContext = Depends(context),  # noqa: B008
    _: Caller = Depends(viewer),  # noqa: B008
) -> dict[str, Any]:
    """Every time period with its ranges and whether it is active now."""
    listing = api.periods().listing(api.clock.now())
    return {"timeperiods": [{**period_json(s), "active": active} for s, active in listing]}


@router.get("/{name}/windows")
def period_windows(
    name: str,
    start: str = Query(alias="from", description="ISO 8601 with an offset."),
    end: str = Query(alias="to", description="ISO 8601 with an offset, at most 366 days on."),
    api: ApiContext = Depends(context),  # noqa: B008
    _: Caller = Depends(viewer),  # noqa: B008
) -> dict[str, Any]:
    """The windows in which the period is active between `from` and `to`."""
    begin, finish = params.required_instant(start, "from"), params.required_instant(end, "to")
    windows = api.periods().windows(params.name(name), begin, finish)
    return {
        "timeperiod": name,
        "from": iso(begin),
        "to": iso(finish),
        "windows": [{"begin": iso(a), "end": iso(b)} for a, b in windows],
    }
