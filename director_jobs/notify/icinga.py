"""Passive check results: a run's end becomes the state of Service `host!job` in Icinga 2.

Success, and a start its precondition skipped, are OK; a failure with a retry still to
come is WARNING, the last failure CRITICAL; a stopped run is WARNING. Icinga then notifies
through the users' own notification setup.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from director_jobs.deploy.api_client import ApiError, IcingaApi
from director_jobs.notify.attempt import Attempt, verified_tls
from director_jobs.notify.config import IcingaChannel

OK, WARNING, CRITICAL = 0, 1, 2
FAILED_STATUSES = frozenset({"error", "timeout", "abandoned"})


def check_state(payload: dict[str, Any]) -> int:
    """The Icinga state of a finished run."""
    status = payload.get("status")
    if status in FAILED_STATUSES:
        return CRITICAL if payload.get("final", True) else WARNING
    # A start skipped by its precondition (the standby of a failover pair) is no problem.
    return OK if status in ("success", "skipped") else WARNING


def plugin_output(payload: dict[str, Any]) -> str:
    """`import-cmdb: error after 2.1 s (run 42, attempt 1): the error` (one line)."""
    head = (
        f"{payload.get('job')}: {payload.get('status')} after {payload.get('duration') or 0:.1f} s"
        f" (run {payload.get('run_id')}, attempt {payload.get('attempt')})"
    )
    if payload.get("status") in FAILED_STATUSES and not payload.get("final", True):
        head += ", a retry follows"
    detail = payload.get("error") or payload.get("last_line")
    return f"{head}: {detail}" if detail else head


def check_result(payload: dict[str, Any]) -> dict[str, Any]:
    """The body of /v1/actions/process-check-result for one finished run."""
    return {
        "type": "Service",
        "exit_status": check_state(payload),
        "plugin_output": plugin_output(payload).splitlines()[0][:1000],
        "performance_data": [f"duration={float(payload.get('duration') or 0):.3f}s"],
        "check_source": payload.get("host") or "director-jobs",
    }


def send_check_result(channel: IcingaChannel, payload: dict[str, Any]) -> Attempt:
    """POST the result; 404 (no such service) is not retried, a reloading daemon is."""
    if payload.get("event") != "finished":
        return Attempt.refused("only finished runs become check results")
    api = IcingaApi(
        channel.url,
        channel.username,
        channel.password,
        verified_tls(channel.ca_file),
        server_name=channel.server_name,
        request_timeout=channel.timeout,
    )
    service = f"{channel.host}!{payload.get('job')}"
    path = f"/v1/actions/process-check-result?service={quote(service, safe='')}"
    try:
        answer = api.call("POST", path, check_result(payload))
    except ApiError as exc:
        if exc.status == 404:
            return Attempt.refused(
                f"Icinga has no service {service!r} (director config render --job-services "
                "writes the objects)",
                404,
            )
        if exc.transient or (exc.status or 0) >= 500:
            return Attempt.again(str(exc), exc.status)
        return Attempt.refused(str(exc), exc.status)
    results = answer.get("results") if isinstance(answer, dict) else None
    code = results[0].get("code") if results and isinstance(results[0], dict) else None
    if code is not None and int(code) != 200:
        return Attempt.refused(f"Icinga: {results[0].get('status')}", int(code))  # type: ignore[index]
    return Attempt.ok(200)
