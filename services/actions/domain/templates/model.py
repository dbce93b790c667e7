"""An industry action template: the stages of a sale, each stage's mandatory and optional
actions, what evidence makes each action count, when it is due, and how long a stage
usually lasts.

Every object checks itself when built, and a `Template` checks its stage graph, so a
template that exists is a valid one, whether it came from a file (`loader.py`) or from a
tenant's customisation (`catalogue.copy_for_tenant`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.pipeline import CLOSED_STAGES
from services.actions.domain.templates.errors import Problem, TemplateError
from services.actions.domain.templates.verifiers import (
    EVIDENCE_KINDS,
    EvidenceRule,
    require_name,
)

# Terminal stages every template ends in (the pipeline's vocabulary).
TERMINAL_STAGES: tuple[str, ...] = ("closed_won", "closed_lost")
assert frozenset(TERMINAL_STAGES) == CLOSED_STAGES
# Template ids and owners follow the command ids (letters, digits, '.', '_', ':', '-').
TEMPLATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_DESCRIPTION = 2000
_ATTACHMENT_FILE = re.compile(r"^(https://[^\s]+|[A-Za-z0-9_\-][A-Za-z0-9_\-./]*)$")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _plain_number(value: float) -> int | float:
    """72.0 -> 72, so a template's fingerprint does not depend on how hours were typed."""
    return int(value) if float(value).is_integer() else value


def require_hours(value: Any, field: str) -> float:
    if not _is_number(value):
        raise InvalidCommand(field, "must be a number of hours")
    if value <= 0:
        raise InvalidCommand(field, f"must be more than 0 hours; got {value}")
    return value


@dataclass(frozen=True)
class LocalizedText:
    zh: str
    en: str

    def __post_init__(self) -> None:
        for lang in ("zh", "en"):
            value = getattr(self, lang)
            if not isinstance(value, str) or not value.strip():
                raise InvalidCommand(lang, "is required (every name is given in Chinese and English)")
            if len(value) > MAX_DESCRIPTION:
                raise InvalidCommand(lang, f"must be at most {MAX_DESCRIPTION} characters")
            object.__setattr__(self, lang, value.strip())

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class AttachmentTemplate:
    """A blank document the rep starts from (pushed with the must-do list)."""

    # A path in the tenant's attachment store, or an https URL.
    file: str
    description: LocalizedText

    def __post_init__(self) -> None:
        if not isinstance(self.file, str) or not _ATTACHMENT_FILE.match(self.file) or ".." in self.file.split("/"):
            raise InvalidCommand("file", f"{self.file!r} must be a relative path without '..' or an https URL")
        if not self.extension:
            raise InvalidCommand("file", f"{self.file!r} has no file extension")
        if not isinstance(self.description, LocalizedText):
            raise InvalidCommand("description", "must be a text in Chinese and English")

    @property
    def extension(self) -> str:
        last = self.file.rstrip("/").rsplit("/", 1)[-1]
        stem, dot, ext = last.rpartition(".")
        return ext.lower() if dot and stem else ""

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "description": self.description.to_dict()}


@dataclass(frozen=True)
class ActionSpec:
    id: str
    name: LocalizedText
    mandatory: bool
    evidence: EvidenceRule
    # Due this many hours after the opportunity entered the stage.
    due_offset_hours: float
    attachment_template: AttachmentTemplate | None = None

    def __post_init__(self) -> None:
        require_name(self.id, "id", "action id")
        if not isinstance(self.name, LocalizedText):
            raise InvalidCommand("name", "must be a name in Chinese and English")
        if not isinstance(self.mandatory, bool):
            raise InvalidCommand("mandatory", "must be true or false")
        if not isinstance(self.evidence, tuple(EVIDENCE_KINDS.values())):
            raise InvalidCommand("evidence", "must be an evidence rule")
        require_hours(self.due_offset_hours, "due_offset_hours")
        # The template's format need not be an accepted evidence format: a blank .docx
        # agreement comes back as a stamped .pdf scan.
        if self.attachment_template is not None and not isinstance(self.attachment_template, AttachmentTemplate):
            raise InvalidCommand("attachment_template", "must be an attachment template")

    @property
    def due_offset(self) -> timedelta:
        return timedelta(hours=self.due_offset_hours)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name.to_dict(),
            "mandatory": self.mandatory,
            "evidence": self.evidence.to_dict(),
            "due_offset_hours": _plain_number(self.due_offset_hours),
        }
        if self.attachment_template is not None:
            out["attachment_template"] = self.attachment_template.to_dict()
        return out


@dataclass(frozen=True)
class Stage:
    id: str
    name: LocalizedText
    # How long an opportunity usually stays here (the industry benchmark); terminal
    # stages have none.
    benchmark_dwell_hours: float | None = None
    next: tuple[str, ...] = ()
    actions: tuple[ActionSpec, ...] = ()

    def __post_init__(self) -> None:
        require_name(self.id, "id", "stage id")
        if not isinstance(self.name, LocalizedText):
            raise InvalidCommand("name", "must be a name in Chinese and English")
        object.__setattr__(self, "next", tuple(self.next))
        object.__setattr__(self, "actions", tuple(self.actions))
        seen: set[str] = set()
        for index, target in enumerate(self.next):
            require_name(target, f"next[{index}]", "stage id")
            if target in seen:
                raise InvalidCommand(f"next[{index}]", f"lists '{target}' twice")
            seen.add(target)
        if self.terminal:
            for field, present in (
                ("next", bool(self.next)),
                ("actions", bool(self.actions)),
                ("benchmark_dwell_hours", self.benchmark_dwell_hours is not None),
            ):
                if present:
                    raise InvalidCommand(field, f"'{self.id}' is a terminal stage; terminal stages have no {field}")
            return
        if self.benchmark_dwell_hours is None:
            raise InvalidCommand("benchmark_dwell_hours", "is required for a stage that is not terminal")
        require_hours(self.benchmark_dwell_hours, "benchmark_dwell_hours")
        if not self.next:
            raise InvalidCommand(
                "next",
                f"stage '{self.id}' is not terminal ({', '.join(TERMINAL_STAGES)}) "
                "and must list at least one next stage",
            )

    @property
    def terminal(self) -> bool:
        return self.id in CLOSED_STAGES

    @property
    def benchmark_dwell(self) -> timedelta | None:
        return None if self.benchmark_dwell_hours is None else timedelta(hours=self.benchmark_dwell_hours)

    @property
    def mandatory_actions(self) -> tuple[ActionSpec, ...]:
        return tuple(a for a in self.actions if a.mandatory)

    def action(self, action_id: str) -> ActionSpec | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name.to_dict()}
        if self.terminal:
            return out
        assert self.benchmark_dwell_hours is not None
        out["benchmark_dwell_hours"] = _plain_number(self.benchmark_dwell_hours)
        out["next"] = list(self.next)
        out["actions"] = [a.to_dict() for a in self.actions]
        return out


@dataclass(frozen=True)
class TemplateRef:
    """What an opportunity stores: the exact template version it started with."""

    template_id: str
    version: int

    def __post_init__(self) -> None:
        if not isinstance(self.template_id, str) or not TEMPLATE_ID.match(self.template_id):
            raise InvalidCommand("template_id", f"{self.template_id!r} is not a valid template id")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidCommand("version", f"must be a whole number of at least 1; got {self.version!r}")

    def __str__(self) -> str:
        return f"{self.template_id}@v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.template_id, "version": self.version}


@dataclass(frozen=True)
class Template:
    id: str
    version: int
    name: LocalizedText
    industry: str
    stages: tuple[Stage, ...]
    description: LocalizedText | None = None
    # None for the templates shipped with Dealpulse; the tenant id for a tenant's copy.
    owner: str | None = None
    # The template this one was copied from, if any.
    based_on: TemplateRef | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        problems: list[Problem] = []

        def add(path: str, problem: str) -> None:
            problems.append(Problem("", None, path, problem))

        try:
            TemplateRef(self.id, self.version)
        except InvalidCommand as exc:
            add("id" if exc.field == "template_id" else exc.field, exc.problem)
        if not isinstance(self.name, LocalizedText):
            add("name", "must be a name in Chinese and English")
        try:
            require_name(self.industry, "industry", "industry id")
        except InvalidCommand as exc:
            add("industry", exc.problem)
        if self.description is not None and not isinstance(self.description, LocalizedText):
            add("description", "must be a text in Chinese and English")
        if self.owner is not None and not (isinstance(self.owner, str) and TEMPLATE_ID.match(self.owner)):
            add("owner", f"{self.owner!r} is not a valid tenant id")
        elif self.owner is not None and isinstance(self.id, str) and not self.id.startswith(f"{self.owner}."):
            # Tenant templates live in the tenant's namespace: no tenant can shadow a
            # shipped template or reach another tenant's id.
            add("id", f"a template owned by tenant '{self.owner}' must have an id starting with '{self.owner}.'")
        if self.based_on is not None and not isinstance(self.based_on, TemplateRef):
            add("based_on", "must be a template reference")
        not_stages = [i for i, stage in enumerate(self.stages) if not isinstance(stage, Stage)]
        for i in not_stages:
            add(f"stages[{i}]", "must be a stage")
        if not not_stages:
            problems.extend(Problem("", None, path, problem) for path, problem in graph_problems(self.stages))
        if problems:
            raise TemplateError(problems)

    @property
    def ref(self) -> TemplateRef:
        return TemplateRef(self.id, self.version)

    @property
    def first_stage(self) -> Stage:
        return self.stages[0]

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.stages)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def action(self, action_id: str) -> tuple[Stage, ActionSpec] | None:
        """The action with this id and the stage it belongs to (action ids are unique in
        a template)."""
        for stage in self.stages:
            found = stage.action(action_id)
            if found is not None:
                return stage, found
        return None

    def to_dict(self) -> dict[str, Any]:
        """The template in its file format (`yaml.safe_dump` it to store a tenant copy)."""
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "name": self.name.to_dict(),
            "industry": self.industry,
        }
        if self.description is not None:
            out["description"] = self.description.to_dict()
        if self.owner is not None:
            out["owner"] = self.owner
        if self.based_on is not None:
            out["based_on"] = self.based_on.to_dict()
        out["stages"] = [s.to_dict() for s in self.stages]
        return out

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical content: a published (id, version) must never change,
        and this is how to tell."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def graph_problems(stages: tuple[Stage, ...]) -> list[tuple[str, str]]:
    """What is wrong with the stage graph, as (key path, problem), in declaration order:
    duplicate ids, missing terminal stages, next stages that do not exist, cycles,
    stages the first stage cannot reach."""
    problems: list[tuple[str, str]] = []
    if not stages:
        return [("stages", "must list at least one stage")]
    index: dict[str, int] = {}
    for i, stage in enumerate(stages):
        if stage.id in index:
            first = index[stage.id]
            problems.append((f"stages[{i}].id", f"duplicate stage id '{stage.id}' (first declared at stages[{first}])"))
        else:
            index[stage.id] = i
    first_use: dict[str, str] = {}
    for i, stage in enumerate(stages):
        for k, action in enumerate(stage.actions):
            path = f"stages[{i}].actions[{k}]"
            if action.id in first_use:
                earlier = first_use[action.id]
                where = (
                    f"in stage '{stage.id}'"
                    if earlier.startswith(f"stages[{i}].")
                    else f"already used at {earlier}; action ids are unique across the template"
                )
                problems.append((f"{path}.id", f"duplicate action id '{action.id}' {where}"))
            else:
                first_use[action.id] = path
    missing_terminals = [t for t in TERMINAL_STAGES if t not in index]
    if missing_terminals:
        problems.append(
            (
                "stages",
                f"every template ends in {' and '.join(TERMINAL_STAGES)}; missing: {', '.join(missing_terminals)}",
            )
        )
    if stages[0].terminal:
        problems.append(("stages[0].id", f"the first stage cannot be the terminal stage '{stages[0].id}'"))
    edges_ok = True
    for i, stage in enumerate(stages):
        for k, target in enumerate(stage.next):
            if target not in index:
                edges_ok = False
                problems.append((f"stages[{i}].next[{k}]", f"unknown stage '{target}'; stages are: {', '.join(index)}"))
    if not edges_ok or len(index) != len(stages):
        return problems
    by_id = {s.id: (i, s) for i, s in enumerate(stages)}
    cycle = _find_cycle(stages, by_id)
    if cycle is not None:
        (i, k), names = cycle
        problems.append((f"stages[{i}].next[{k}]", f"the stage graph has a cycle: {' → '.join(names)}"))
        return problems
    reachable = {stages[0].id}
    frontier = [stages[0]]
    while frontier:
        for target in frontier.pop().next:
            if target not in reachable:
                reachable.add(target)
                frontier.append(by_id[target][1])
    for i, stage in enumerate(stages):
        if stage.id not in reachable:
            problems.append(
                (f"stages[{i}].id", f"stage '{stage.id}' cannot be reached from the first stage '{stages[0].id}'")
            )
    return problems


def _find_cycle(
    stages: tuple[Stage, ...], by_id: dict[str, tuple[int, Stage]]
) -> tuple[tuple[int, int], list[str]] | None:
    """The first cycle met by a depth-first walk in declaration order: the edge that
    closes it (stage index, next index) and the stage ids around it."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {s.id: WHITE for s in stages}
    path: list[str] = []

    def visit(stage_id: str) -> tuple[tuple[int, int], list[str]] | None:
        colour[stage_id] = GREY
        path.append(stage_id)
        i, stage = by_id[stage_id]
        for k, target in enumerate(stage.next):
            if colour[target] == GREY:
                return (i, k), path[path.index(target):] + [target]
            if colour[target] == WHITE:
                found = visit(target)
                if found is not None:
                    return found
        path.pop()
        colour[stage_id] = BLACK
        return None

    for stage in stages:
        if colour[stage.id] == WHITE:
            found = visit(stage.id)
            if found is not None:
                return found
    return None
