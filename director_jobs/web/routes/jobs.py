"""/jobs/…: one job's page, its buttons (trigger, stop, enable, disable), its edit forms."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import Response

from director_jobs.api.routes import params
from director_jobs.errors import AlreadyExists, InvalidInput, UnknownJobType
from director_jobs.model import JobSpec
from director_jobs.services.runs import RunQuery
from director_jobs.services.shapes import masked_parameters
from director_jobs.web import forms
from director_jobs.web.charts import CHART_SLOTS, run_chart
from director_jobs.web.pages import Page, act, show

router = APIRouter(prefix="/jobs")

HISTORY_PAGE = 20  # runs per page of the history table
NEXT_STARTS = 5


def job_page(page: Page, name: str, cursor: str | None) -> Response:
    """The job: definition, chart, history page, next starts (blocking)."""
    jobs = page.api.jobs()
    detail = jobs.detail(params.name(name))
    runs = page.api.runs()
    history = runs.page(RunQuery(job=name, limit=HISTORY_PAGE, cursor=cursor))
    chart = run_chart(runs.history(name, CHART_SLOTS, with_output=False))
    running = page.api.database.runs.running_of(name) if detail.view.running else None
    return page.html(
        "job.html",
        detail=detail,
        job=detail.view.job,
        parameters=masked_parameters(detail.view.job.spec.parameters),
        effective=masked_parameters(detail.effective_parameters),
        history=history,
        first_page=cursor is None,
        chart=chart,
        running=running,
        upcoming=jobs.upcoming(detail.view.job, NEXT_STARTS),
    )


@router.get("/{name}", include_in_schema=False)
async def show_job(request: Request, name: str) -> Response:
    """A job's page."""
    cursor = request.query_params.get("before")
    return await show(request, "viewer", lambda p: job_page(p, name, cursor))


def confirm_first(page: Page, name: str, action: str, question: str) -> Response | None:
    """A page asking to confirm, unless the form says it was confirmed (by the page's
    script, or on this very page when scripts are off)."""
    if page.form.get("confirmed") == "yes":
        return None
    return page.html(
        "confirm.html",
        question=question,
        action=f"/jobs/{name}/{action}",
        fields={k: v for k, v in page.form.items() if k not in ("csrf", "confirmed")},
        back=f"/jobs/{name}",
    )


@router.post("/{name}/trigger", include_in_schema=False)
async def trigger(request: Request, name: str) -> Response:
    """Queue a run now (with the form's parameters), then show that run."""

    def work(page: Page) -> Response:
        jobs = page.api.jobs(page.actor)
        job = jobs.get(params.name(name))
        if job.spec.confirm:
            asked = confirm_first(page, name, "trigger", f"Really run {name} now?")
            if asked is not None:
                return asked
        parameters = forms.json_object(page.form.get("parameters", ""), "parameters")
        queued = jobs.trigger(
            name, queue=page.form.get("queue") == "yes", parameters=parameters or None
        )
        return page.redirect(f"/runs/{queued.run.id}")

    return await act(request, "operator", work)


@router.post("/{name}/stop", include_in_schema=False)
async def stop(request: Request, name: str) -> Response:
    """Ask the runner to stop the job's run, then show that run."""

    def work(page: Page) -> Response:
        asked = confirm_first(page, name, "stop", f"Really stop the running {name}?")
        if asked is not None:
            return asked
        run = page.api.runs().stop_job(params.name(name), page.actor)
        return page.redirect(f"/runs/{run.id}")

    return await act(request, "operator", work)


async def _set_disabled(request: Request, name: str, disabled: bool) -> Response:
    """Enable (False) or disable (True) the job, then show it."""

    def work(page: Page) -> Response:
        page.api.jobs(page.actor).set_disabled(params.name(name), disabled)
        return page.redirect(f"/jobs/{name}")

    return await act(request, "operator", work)


@router.post("/{name}/enable", include_in_schema=False)
async def enable(request: Request, name: str) -> Response:
    """Let the runner start the job on its schedule again."""
    return await _set_disabled(request, name, False)


@router.post("/{name}/disable", include_in_schema=False)
async def disable(request: Request, name: str) -> Response:
    """Keep the runner from starting the job."""
    return await _set_disabled(request, name, True)


# -- definitions (admin) ---------------------------------------------------------------


def job_form(
    page: Page, values: dict[str, str], *, new: bool, error: InvalidInput | None = None
) -> Response:
    """The job form with `values`, and the error beside its field (422 then)."""
    return page.html(
        "job_form.html",
        422 if error else 200,
        values=values,
        new=new,
        error=error,
        type_options=[(name, name) for name in page.api.registry.names()],
        period_options=[("", "always")]
        + [(spec.name, spec.name) for spec in page.api.database.periods.all()],
    )


def _saved(page: Page, name: str, new: bool, stored: JobSpec | None) -> Response:
    """Store the form's job (add or replace), or show the form again with the error."""
    jobs = page.api.jobs(page.actor)
    try:
        spec = forms.job_spec(name, page.form, stored)
        try:
            if new:
                jobs.add(spec)
            else:
                fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
                del fields["name"]
                jobs.update(name, **fields)
        except UnknownJobType as exc:
            raise InvalidInput("type", spec.type, str(exc).partition(": ")[2]) from None
        except AlreadyExists:
            raise InvalidInput("name", name, "a job of that name exists already") from None
    except InvalidInput as error:
        return job_form(page, {**page.form, "name": name}, new=new, error=error)
    return page.redirect(f"/jobs/{name}")


@router.get("/-/new", include_in_schema=False)
async def new_job_form(request: Request) -> Response:
    """An empty job form."""
    blank = forms.job_form_values(JobSpec(name="", type="command"))
    return await show(request, "admin", lambda p: job_form(p, blank, new=True))


@router.post("/-/new", include_in_schema=False)
async def create_job(request: Request) -> Response:
    """Define the form's job."""

    def work(page: Page) -> Response:
        return _saved(page, page.form.get("name", "").strip(), True, None)

    return await act(request, "admin", work)


@router.get("/{name}/edit", include_in_schema=False)
async def edit_job_form(request: Request, name: str) -> Response:
    """The job's form, filled in."""

    def work(page: Page) -> Response:
        job = page.api.jobs().get(params.name(name))
        return job_form(page, forms.job_form_values(job.spec), new=False)

    return await show(request, "admin", work)


@router.post("/{name}/edit", include_in_schema=False)
async def edit_job(request: Request, name: str) -> Response:
    """Replace the job's definition with the form's."""

    def work(page: Page) -> Response:
        stored = page.api.jobs().get(params.name(name))
        return _saved(page, name, False, stored.spec)

    return await act(request, "admin", work)


@router.post("/{name}/delete", include_in_schema=False)
async def delete_job(request: Request, name: str) -> Response:
    """Delete the job (its runs stay), after asking."""

    def work(page: Page) -> Response:
        page.api.jobs().get(params.name(name))
        asked = confirm_first(
            page, name, "delete", f"Really delete the job {name}? Its runs stay listed."
        )
        if asked is not None:
            return asked
        page.api.jobs(page.actor).delete(name)
        return page.redirect("/")

    return await act(request, "admin", work)
