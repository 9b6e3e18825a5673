"""/timeperiods: every period, one period's next 14 days as a week strip, its forms."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from director_jobs.api.routes import params
from director_jobs.errors import InvalidInput
from director_jobs.model import PeriodSpec
from director_jobs.validation import zone
from director_jobs.web import forms
from director_jobs.web.charts import STRIP_HOURS_WIDTH, STRIP_LABEL, STRIP_ROW, week_strip
from director_jobs.web.pages import Page, act, show

router = APIRouter(prefix="/timeperiods")

STRIP_DAYS = 14


def periods_page(page: Page) -> Response:
    """Every period, whether it is open now, and its jobs (blocking)."""
    service = page.api.periods()
    now = page.api.clock.now()
    jobs = page.api.jobs().overview()
    users: dict[str, list[str]] = {}
    for view in jobs:
        if view.job.spec.timeperiod:
            users.setdefault(view.job.spec.timeperiod, []).append(view.job.name)
    return page.html("periods.html", periods=service.listing(now), users=users)


def period_page(page: Page, name: str) -> Response:
    """One period: the week strip of its next 14 days, warnings, jobs (blocking)."""
    service = page.api.periods()
    period = service.period(params.name(name, "timeperiod"))
    spec = next(s for s in page.api.database.periods.all() if s.name == name)
    tz = zone(spec.timezone or page.api.settings.timezone)
    now = page.api.clock.now()
    first_day = now.astimezone(tz).date()
    start = datetime.combine(first_day, time(), tz)
    end = datetime.combine(first_day + timedelta(days=STRIP_DAYS), time(), tz)
    windows = service.windows(name, start, end)
    users = [v.job.name for v in page.api.jobs().overview() if v.job.spec.timeperiod == name]
    return page.html(
        "period.html",
        spec=spec,
        state=service.state(name, now),
        days=week_strip(windows, first_day, STRIP_DAYS, tz),
        strip={"label": STRIP_LABEL, "hours": STRIP_HOURS_WIDTH, "row": STRIP_ROW},
        zone_name=str(tz),
        warnings=period.warnings(),
        users=users,
    )


@router.get("", include_in_schema=False)
async def list_periods(request: Request) -> Response:
    """The time periods."""
    return await show(request, "viewer", periods_page)


@router.get("/{name}", include_in_schema=False)
async def show_period(request: Request, name: str) -> Response:
    """One time period."""
    return await show(request, "viewer", lambda p: period_page(p, name))


def period_form(
    page: Page, values: dict[str, str], *, new: bool, error: InvalidInput | None = None
) -> Response:
    """The period form with `values`, and the error beside its field (422 then)."""
    return page.html("period_form.html", 422 if error else 200, values=values, new=new, error=error)


def _saved(page: Page, name: str, new: bool) -> Response:
    """Store the form's period (checked with all the others), or show the form again."""
    service = page.api.periods(page.actor)
    try:
        spec = forms.period_spec(name, page.form)
        exists = any(s.name == name for s in page.api.database.periods.all())
        if new and exists:
            raise InvalidInput("name", name, "a time period of that name exists already")
        if new:
            service.add(spec)
        else:
            with page.api.database.engine.begin() as connection:
                service.import_in(connection, [spec], page.api.clock.now())
    except InvalidInput as error:
        return period_form(page, {**page.form, "name": name}, new=new, error=error)
    return page.redirect(f"/timeperiods/{name}")


@router.get("/-/new", include_in_schema=False)
async def new_period_form(request: Request) -> Response:
    """An empty period form."""
    blank = forms.period_form_values(PeriodSpec(name="", ranges={"monday": "09:00-17:00"}))
    return await show(request, "admin", lambda p: period_form(p, blank, new=True))


@router.post("/-/new", include_in_schema=False)
async def create_period(request: Request) -> Response:
    """Define the form's period."""
    return await act(request, "admin", lambda p: _saved(p, p.form.get("name", "").strip(), True))


@router.get("/{name}/edit", include_in_schema=False)
async def edit_period_form(request: Request, name: str) -> Response:
    """The period's form, filled in."""

    def work(page: Page) -> Response:
        page.api.periods().period(params.name(name, "timeperiod"))
        spec = next(s for s in page.api.database.periods.all() if s.name == name)
        return period_form(page, forms.period_form_values(spec), new=False)

    return await show(request, "admin", work)


@router.post("/{name}/edit", include_in_schema=False)
async def edit_period(request: Request, name: str) -> Response:
    """Replace the period with the form's."""

    def work(page: Page) -> Response:
        page.api.periods().period(params.name(name, "timeperiod"))
        return _saved(page, name, False)

    return await act(request, "admin", work)


@router.post("/{name}/delete", include_in_schema=False)
async def delete_period(request: Request, name: str) -> Response:
    """Delete the period (refused while jobs or periods use it), after asking."""

    def work(page: Page) -> Response:
        page.api.periods().period(params.name(name, "timeperiod"))
        if page.form.get("confirmed") != "yes":
            return page.html(
                "confirm.html",
                question=f"Really delete the time period {name}?",
                action=f"/timeperiods/{name}/delete",
                fields={},
                back=f"/timeperiods/{name}",
            )
        page.api.periods(page.actor).delete(name)
        return page.redirect("/timeperiods")

    return await act(request, "admin", work)
