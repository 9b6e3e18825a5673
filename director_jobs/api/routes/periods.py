"""/api/v1/timeperiods: the periods, whether each is active, and their windows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from director_jobs.api.auth import Access, viewer
from director_jobs.api.routes import params
from director_jobs.services.shapes import iso, period_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/timeperiods", tags=["timeperiods"])


@router.get("")
async def list_periods(access: Access = Depends(viewer)) -> JSONResponse:  # noqa: B008
    """Every time period with its ranges and whether it is active now."""

    def work(_: Caller) -> dict[str, Any]:
        listing = access.api.periods().listing(access.api.clock.now())
        return {"timeperiods": [{**period_json(s), "active": active} for s, active in listing]}

    return JSONResponse(await access.run(work))


@router.get("/{name}/windows")
async def period_windows(
    name: str,
    start: str = Query(alias="from", description="ISO 8601 with an offset."),
    end: str = Query(alias="to", description="ISO 8601 with an offset, at most 366 days on."),
    access: Access = Depends(viewer),  # noqa: B008
) -> JSONResponse:
    """The windows in which the period is active between `from` and `to`."""

    def work(_: Caller) -> dict[str, Any]:
        begin = params.required_instant(start, "from")
        finish = params.required_instant(end, "to")
        windows = access.api.periods().windows(params.name(name), begin, finish)
        return {
            "timeperiod": name,
            "from": iso(begin),
            "to": iso(finish),
            "windows": [{"begin": iso(a), "end": iso(b)} for a, b in windows],
        }

    return JSONResponse(await access.run(work))
