"""Table definitions (SQLAlchemy Core); Alembic migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from director_jobs.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("interval_seconds", Float, nullable=True),
    Column("cron", String(255), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("timeperiod", String(64), nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("timeout_seconds", Float, nullable=False),
    Column("retries", Integer, nullable=False, default=0),
    Column("retry_delay_seconds", Float, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("confirm", Boolean, nullable=False, default=False),
    Column("memory_limit_mib", Float, nullable=True),
    Column("requires", JSON(none_as_null=True), nullable=True),  # {"command", "path"}; NULL: none
    # Upstream jobs this one runs after: [{"job": name, "on": condition}]; NULL: none.
    Column("after", JSON(none_as_null=True), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Scheduling state, written by runners only.
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("next_due_at", UTCDateTime, nullable=True),
    Column("attempt", Integer, nullable=False, default=0),
    Column("pending_trigger", String(16), nullable=True),
    Column("claimed_by", String(255), nullable=True),
    Column("claimed_run_id", Integer, nullable=True),
    # The due time a closed time period postponed (NULL when not postponed): a changed
    # period puts it back, so that the new period is checked at once.
    Column("deferred_from", UTCDateTime, nullable=True),
    # The upstream run whose end set the `chain` trigger (NULL: none pending): the chained
    # run records it.
    Column("chained_by_run_id", Integer, nullable=True),
    # A pass reads only rows that are enabled and due: (disabled, next_due_at) serves
    # both the filter and the "oldest due first" order.
    Index("ix_jobs_due", "disabled", "next_due_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    Column("job_name", String(64), nullable=False),
    Column("job_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("scheduled_for", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("output", Text, nullable=False, default=""),
    # Lines appended to the output in all (the tail keeps the last 64 KiB of them): a
    # follower that saw n lines reads only the newer ones (director_jobs/output.py).
    Column("output_lines", Integer, nullable=False, default=0, server_default="0"),
    Column("progress", String(255), nullable=True),  # the newest `::progress` message
    Column("progress_fraction", Float, nullable=True),  # 0-1, when the job knows it
    # Parameters a trigger gave for this run only, as JSON, merged over the job's.
    Column("parameters", Text, nullable=True),
    Column("runner", String(255), nullable=True),
    # Start time of the runner process (seconds since boot), so that a recycled pid
    # is not mistaken for the runner that is still alive.
    Column("runner_process_start", Float, nullable=True),
    # The job's own process (child or command), so that leftovers of a killed runner
    # can be found and stopped; its start time tells a recycled pid apart.
    Column("job_pid", Integer, nullable=True),
    Column("job_process_start", Float, nullable=True),
    # The job's cgroup folders, one a line (none with process groups): killed and removed
    # by the next runner on the host when this run's runner died.
    Column("job_cgroups", Text, nullable=True),
    # A stop asked for from outside (`jobs stop`, the API): the runner holding the run
    # looks for it while the job runs, kills the job and records it stopped by whom.
    Column("stop_requested_at", UTCDateTime, nullable=True),
    Column("stopped_by", String(255), nullable=True),
    # Whether the run changed something (an import stored a new import run, a sync changed
    # objects, a command printed `::changed`); NULL: the job did not say. Chains read it.
    Column("changed", Boolean, nullable=True),
    Column("upstream_run_id", Integer, nullable=True),  # a `chain` run: the run that started it
    Index("ix_runs_job_name_id", "job_name", "id"),
    Index("ix_runs_status", "status"),
)

# One-off runs planned for a time (`jobs trigger NAME --at …`), until a runner starts them.
planned_runs = Table(
    "planned_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("run_at", UTCDateTime, nullable=False),
    Column("timezone", String(64), nullable=True),  # the zone the time was given in
    Column("parameters", Text, nullable=True),  # JSON, merged over the job's for that run
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(255), nullable=False),
    UniqueConstraint("job_id", "run_at"),
    Index("ix_planned_runs_run_at", "run_at"),
)

# Every runner process (forever, or a one-shot pass while it runs), with a heartbeat, so
# that `jobs trigger` and `director status` can tell whether anything will run a job.
runners = Table(
    "runners",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", String(255), nullable=False, unique=True),  # host:pid, as in runs.runner
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("process_start", Float, nullable=True),
    Column("mode", String(16), nullable=False),  # forever | one-shot
    Column("version", String(32), nullable=False),
    Column("containment", Text, nullable=False),  # how it holds a job's processes
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime, nullable=True),
)

time_periods = Table(
    "time_periods",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(255), nullable=True),
    # Icinga's `ranges` dictionary, key -> value, in the order given.
    Column("ranges", JSON, nullable=False),
    Column("includes", JSON, nullable=False),
    Column("excludes", JSON, nullable=False),
    Column("prefer_includes", Boolean, nullable=False, default=True),
    # NULL: the configured default zone (else the system's).
    Column("timezone", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- Director pipeline: import → sync → deploy ----------------------------------------------

import_sources = Table(
    "import_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("provider", String(16), nullable=False),  # csv | json | sql
    Column("settings", JSON, nullable=False),  # the provider's settings
    Column("key_column", String(255), nullable=False),
    Column("modifiers", JSON, nullable=False),  # [{"column": c, "modifier": m, …args}]
    # Largest share of rows an import may lose against the previous run (NULL: 50 %, and
    # never all of them); 1.0 allows anything (`allow_shrink = true`).
    Column("max_shrink", Float, nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per import that changed the data (an unchanged import stores nothing).
import_runs = Table(
    "import_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "source_id", Integer, ForeignKey("import_sources.id", ondelete="CASCADE"), nullable=False
    ),
    Column("checksum", String(64), nullable=False),  # sha256 over the sorted row checksums
    Column("row_count", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Index("ix_import_runs_source_id_id", "source_id", "id"),
)

# Row contents, stored once however many import runs contain them.
import_rows = Table(
    "import_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("checksum", String(64), nullable=False, unique=True),  # sha256 of the canonical JSON
    Column("data", JSON, nullable=False),
)

import_run_rows = Table(
    "import_run_rows",
    metadata,
    Column(
        "import_run_id", Integer, ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("key", String(255), primary_key=True),
    Column("row_id", Integer, ForeignKey("import_rows.id"), nullable=False, index=True),
)

sync_rules = Table(
    "sync_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("source", String(64), nullable=False),  # import source name
    Column("object_type", String(32), nullable=False),
    Column("properties", JSON, nullable=False),  # property -> template / constant
    Column("filter", Text, nullable=True),
    Column("update_policy", String(16), nullable=False),  # merge | override | ignore
    Column("purge", Boolean, nullable=False, default=False),
    # Largest share of the rule's objects one run may delete (NULL: 20 %); 1.0: any.
    Column("max_purge", Float, nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, ForeignKey("sync_rules.id", ondelete="CASCADE"), nullable=False),
    Column(
        "import_run_id", Integer, ForeignKey("import_runs.id", ondelete="SET NULL"), nullable=True
    ),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("created", Integer, nullable=False),
    Column("modified", Integer, nullable=False),
    Column("deleted", Integer, nullable=False),
)

# Monitoring objects (host, service, …) that sync rules own and config-deploy renders.
objects = Table(
    "objects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("object_type", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("properties", JSON, nullable=False),
    Column("owner_rule", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("object_type", "name", name="uq_objects_object_type_name"),
)

object_changes = Table(
    "object_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "sync_run_id",
        Integer,
        ForeignKey("sync_runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("object_type", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("action", String(16), nullable=False),  # created | modified | deleted
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(64), nullable=True),
    Column("target", String(255), nullable=False),  # "directory:/path" or "icinga2-api:https://…"
    Column("checksum", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # deployed | failed | unchanged | skipped-grace
    Column("files", JSON, nullable=False),  # relative paths rendered
    Column("output", Text, nullable=False, default=""),  # validation output or stage startup log
    Column("stage", String(255), nullable=True),  # Icinga 2 API stage name
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("duration_seconds", Float, nullable=False),
    Index("ix_deployments_status_id", "status", "id"),
)

# API tokens: only a SHA-256 of each secret is kept (the secret is shown once, at creation).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # viewer | operator | admin
    Column("secret_sha256", String(64), nullable=False, unique=True),  # hex digest
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(255), nullable=False),  # who ran `tokens add`
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

# Sessions of the web page: the cookie's secret is kept as a SHA-256 only, like a token's.
# A session from a login belongs to a token (revoking it ends the session); one from a
# trusted proxy's header has no token and names the proxy's user and role instead.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("secret_sha256", String(64), nullable=False, unique=True),  # of the cookie
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=True),
    Column("user_name", String(255), nullable=False),  # the token's name or the proxy's user
    Column("role", String(16), nullable=False),  # a proxy user's; a token's is read live
    Column("csrf", String(64), nullable=False),  # sent back with every form and POST
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),  # the idle expiry counts from here
    Column("expires_at", UTCDateTime, nullable=False),  # the latest end, however active
)

# Who changed what, when: every change to definitions and tokens, every manual trigger and
# stop, from the CLI, `apply` or the API. Definitions are stored with secrets masked.
activity = Table(
    "activity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),  # cli:USER, apply:FILE, api:TOKEN
    Column("action", String(16), nullable=False),  # created, updated, deleted, triggered, …
    Column("kind", String(32), nullable=False),  # job, timeperiod, import_source, sync_rule, …
    Column("name", String(255), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Index("ix_activity_at", "at"),
)

# Notifications (webhooks, mail, Icinga passive results): one row per event and channel,
# written in the transaction that records the run, sent later by the runner's delivery
# process. The unique key makes an event go out at most once per channel, across restarts.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),  # the channel's name in the config file
    Column("kind", String(16), nullable=False),  # webhook | mail | icinga
    Column("event", String(16), nullable=False),  # started | finished
    Column("run_id", Integer, nullable=False),
    Column("job_name", String(64), nullable=False),
    Column("payload", JSON, nullable=False),  # what is sent: the run's facts, no secrets
    # pending → sending → delivered | failed (pending again between retries)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),  # when the last attempt began
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("response_code", Integer, nullable=True),  # HTTP status or SMTP reply code
    Column("error", Text, nullable=True),
    Column("claimed_by", String(255), nullable=True),  # the runner that sends it
    UniqueConstraint("channel", "event", "run_id", name="uq_notifications_channel_event_run"),
    Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_notifications_job_name_id", "job_name", "id"),
    Index("ix_notifications_run_id", "run_id"),
)

# Runs that housekeeping deleted, summed per job and status, written in the transaction that
# deletes them: the metrics add these to what `runs` still holds, so that their counters
# and the duration histogram never go down (director_jobs/db/metrics_repo.py).
pruned_run_totals = Table(
    "pruned_run_totals",
    metadata,
    Column("job_name", String(64), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("runs", Integer, nullable=False),
    # Of those, the runs that started and have a duration: the histogram's count and sum.
    Column("timed_runs", Integer, nullable=False),
    Column("duration_sum", Float, nullable=False),
    # {"upper bound": runs in that bucket alone}, e.g. {"60.0": 3, "+Inf": 1}: by bound,
    # not by position, so that a later change of the buckets can still place them.
    Column("duration_buckets", JSON, nullable=False),
    Column("last_finished_at", UTCDateTime, nullable=True),
)
