"""A sync rule checked and built: mapping and filter compiled, fields named `sync_rules.NAME.…`."""

from __future__ import annotations

from dataclasses import dataclass

from director_jobs.errors import InvalidInput
from director_jobs.sync.filter_ast import Expr
from director_jobs.sync.filter_parser import parse_filter
from director_jobs.sync.mapping import PropertyMapping
from director_jobs.sync.spec import OBJECT_TYPES, RuleSpec, UpdatePolicy
from director_jobs.validation import refuse_unstorable, validate_name


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to run."""

    spec: RuleSpec
    mapping: PropertyMapping
    filter: Expr | None


def compile_rule(spec: RuleSpec) -> CompiledRule:
    """Check every field of `spec`; InvalidInput names it."""
    validate_name(spec.name, "sync_rules")
    where = f"sync_rules.{spec.name}"
    for field_name in ("properties", "filter", "description"):
        refuse_unstorable(getattr(spec, field_name) or "", f"{where}.{field_name}")
    validate_name(spec.source, f"{where}.source")
    if spec.object_type not in OBJECT_TYPES:
        raise InvalidInput(
            f"{where}.object_type", spec.object_type, f"expected one of {', '.join(OBJECT_TYPES)}"
        )
    if not isinstance(spec.update_policy, UpdatePolicy):
        raise InvalidInput(
            f"{where}.update_policy",
            spec.update_policy,
            f"expected one of {', '.join(p.value for p in UpdatePolicy)}",
        )
    mapping = PropertyMapping(spec.properties, f"{where}.properties")
    expression = None
    if spec.filter is not None:
        expression = parse_filter(spec.filter, f"{where}.filter")
    return CompiledRule(spec, mapping, expression)
