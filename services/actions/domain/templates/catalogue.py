"""Template versions, tenant copies, and resolving the exact version an opportunity uses.

A published (template id, version) never changes: an opportunity stores the
`TemplateRef` it started with and is judged by that version to the end, whatever newer
versions appear. Resolution is exact and never falls back to another version.

Tenants see the shipped templates (no owner) and their own copies, never another
tenant's: a tenant copy's id starts with `<tenant id>.`, so ids cannot collide across
tenants or shadow a shipped template.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from services.actions.domain.errors import AlreadyExists, InvalidCommand, NotFound, PreconditionFailed
from services.actions.domain.templates.errors import Problem, TemplateError
from services.actions.domain.templates.model import (
    TEMPLATE_ID,
    ActionSpec,
    AttachmentTemplate,
    LocalizedText,
    Stage,
    Template,
    TemplateRef,
)
from services.actions.domain.templates.verifiers import EvidenceRule


class TemplateCatalogue:
    """An immutable set of template versions keyed by (template id, version)."""

    def __init__(self, templates: Iterable[Template] = ()) -> None:
        by_ref: dict[TemplateRef, Template] = {}
        owners: dict[str, str | None] = {}
        for template in templates:
            existing = by_ref.get(template.ref)
            if existing is not None and existing.fingerprint != template.fingerprint:
                raise AlreadyExists(f"template {template.ref} is defined twice with different content")
            if template.id in owners and owners[template.id] != template.owner:
                raise AlreadyExists(f"template {template.id} has versions with different owners")
            owners[template.id] = template.owner
            by_ref[template.ref] = template
        self._by_ref = by_ref
        self._versions: dict[str, tuple[int, ...]] = {}
        for ref in sorted(by_ref, key=lambda r: (r.template_id, r.version)):
            self._versions[ref.template_id] = (*self._versions.get(ref.template_id, ()), ref.version)

    def __iter__(self) -> Iterator[Template]:
        return iter(sorted(self._by_ref.values(), key=lambda t: (t.id, t.version)))

    def __len__(self) -> int:
        return len(self._by_ref)

    def __contains__(self, ref: object) -> bool:
        return ref in self._by_ref

    @staticmethod
    def _visible(template: Template, tenant_id: str) -> bool:
        return template.owner is None or template.owner == tenant_id

    def resolve(self, ref: TemplateRef, *, tenant_id: str) -> Template:
        """Exactly this version, or NotFound: an opportunity pinned to v1 is never judged
        by v2, and another tenant's template does not exist for this tenant."""
        template = self._by_ref.get(ref)
        if template is None or not self._visible(template, tenant_id):
            known = self.versions(ref.template_id, tenant_id=tenant_id)
            hint = f"; known versions: {', '.join(f'v{v}' for v in known)}" if known else ""
            raise NotFound(f"template {ref} not found{hint}")
        return template

    def versions(self, template_id: str, *, tenant_id: str) -> tuple[int, ...]:
        versions = self._versions.get(template_id, ())
        if versions and not self._visible(self._by_ref[TemplateRef(template_id, versions[0])], tenant_id):
            return ()
        return versions

    def latest(self, template_id: str, *, tenant_id: str) -> Template:
        """The newest version: what a *new* opportunity starts on (then pin its ref)."""
        versions = self.versions(template_id, tenant_id=tenant_id)
        if not versions:
            raise NotFound(f"template {template_id} not found")
        return self._by_ref[TemplateRef(template_id, versions[-1])]

    def available(self, *, tenant_id: str) -> tuple[Template, ...]:
        """The newest version of every template the tenant may use."""
        return tuple(
            self.latest(template_id, tenant_id=tenant_id)
            for template_id in sorted(self._versions)
            if self.versions(template_id, tenant_id=tenant_id)
        )

    def with_template(self, template: Template) -> "TemplateCatalogue":
        """Publish a new version. Versions go 1, 2, 3… per id; publishing an identical
        version again changes nothing; publishing different content under an existing
        version is refused (a published version never changes)."""
        existing = self._by_ref.get(template.ref)
        if existing is not None:
            if existing.fingerprint == template.fingerprint:
                return self
            raise AlreadyExists(
                f"template {template.ref} is already published with other content; publish a new version"
            )
        versions = self._versions.get(template.id, ())
        if versions:
            owner = self._by_ref[TemplateRef(template.id, versions[0])].owner
            if owner != template.owner:
                raise AlreadyExists(f"template id {template.id} is taken")
        expected = versions[-1] + 1 if versions else 1
        if template.version != expected:
            raise PreconditionFailed(f"the next version of {template.id} is {expected}, not {template.version}")
        return TemplateCatalogue((*self._by_ref.values(), template))


# ---- customisation ---------------------------------------------------------------------
# Each change is a small value; applying one to a template's stages returns new stages.
# Unknown stage or action ids are errors, never silently ignored.


def _stage_index(stages: list[Stage], stage_id: str) -> int:
    for i, stage in enumerate(stages):
        if stage.id == stage_id:
            return i
    raise InvalidCommand("stage_id", f"unknown stage '{stage_id}'")


def _action_index(stages: list[Stage], action_id: str) -> tuple[int, int]:
    for i, stage in enumerate(stages):
        for k, action in enumerate(stage.actions):
            if action.id == action_id:
                return i, k
    raise InvalidCommand("action_id", f"unknown action '{action_id}'")


def _replace_action(stages: list[Stage], action_id: str, **changes) -> list[Stage]:
    i, k = _action_index(stages, action_id)
    actions = list(stages[i].actions)
    actions[k] = replace(actions[k], **changes)
    stages[i] = replace(stages[i], actions=tuple(actions))
    return stages


@dataclass(frozen=True)
class SetBenchmarkDwell:
    stage_id: str
    hours: float

    def apply(self, stages: list[Stage]) -> list[Stage]:
        i = _stage_index(stages, self.stage_id)
        stages[i] = replace(stages[i], benchmark_dwell_hours=self.hours)
        return stages


@dataclass(frozen=True)
class SetNext:
    stage_id: str
    next: tuple[str, ...]

    def apply(self, stages: list[Stage]) -> list[Stage]:
        i = _stage_index(stages, self.stage_id)
        stages[i] = replace(stages[i], next=tuple(self.next))
        return stages


@dataclass(frozen=True)
class AddStage:
    """Insert a stage after another (wire it in with SetNext on its predecessors)."""

    stage: Stage
    after: str

    def apply(self, stages: list[Stage]) -> list[Stage]:
        i = _stage_index(stages, self.after)
        stages.insert(i + 1, self.stage)
        return stages


@dataclass(frozen=True)
class RemoveStage:
    """Remove a stage (and its actions); rewire the stages that led to it with SetNext."""

    stage_id: str

    def apply(self, stages: list[Stage]) -> list[Stage]:
        del stages[_stage_index(stages, self.stage_id)]
        return stages


@dataclass(frozen=True)
class SetMandatory:
    action_id: str
    mandatory: bool

    def apply(self, stages: list[Stage]) -> list[Stage]:
        return _replace_action(stages, self.action_id, mandatory=self.mandatory)


@dataclass(frozen=True)
class SetDueOffset:
    action_id: str
    hours: float

    def apply(self, stages: list[Stage]) -> list[Stage]:
        return _replace_action(stages, self.action_id, due_offset_hours=self.hours)


@dataclass(frozen=True)
class SetEvidence:
    action_id: str
    evidence: EvidenceRule

    def apply(self, stages: list[Stage]) -> list[Stage]:
        return _replace_action(stages, self.action_id, evidence=self.evidence)


@dataclass(frozen=True)
class SetAttachmentTemplate:
    action_id: str
    attachment_template: AttachmentTemplate | None

    def apply(self, stages: list[Stage]) -> list[Stage]:
        return _replace_action(stages, self.action_id, attachment_template=self.attachment_template)


@dataclass(frozen=True)
class AddAction:
    stage_id: str
    action: ActionSpec

    def apply(self, stages: list[Stage]) -> list[Stage]:
        i = _stage_index(stages, self.stage_id)
        stages[i] = replace(stages[i], actions=(*stages[i].actions, self.action))
        return stages


@dataclass(frozen=True)
class RemoveAction:
    action_id: str

    def apply(self, stages: list[Stage]) -> list[Stage]:
        i, k = _action_index(stages, self.action_id)
        stages[i] = replace(stages[i], actions=stages[i].actions[:k] + stages[i].actions[k + 1 :])
        return stages


Change = (
    SetBenchmarkDwell
    | SetNext
    | AddStage
    | RemoveStage
    | SetMandatory
    | SetDueOffset
    | SetEvidence
    | SetAttachmentTemplate
    | AddAction
    | RemoveAction
)


def _apply(template: Template, changes: tuple[Change, ...], **fields) -> Template:
    stages = list(template.stages)
    for index, change in enumerate(changes):
        try:
            stages = change.apply(stages)
        except InvalidCommand as exc:
            raise InvalidCommand(f"changes[{index}].{exc.field}", exc.problem) from None
    label = f"customisation of {template.ref}"
    try:
        return replace(template, stages=tuple(stages), **fields)
    except TemplateError as exc:
        raise TemplateError(Problem(label, None, p.path, p.problem) for p in exc.problems) from None


def copy_for_tenant(
    template: Template,
    tenant_id: str,
    *changes: Change,
    template_id: str | None = None,
    name: LocalizedText | None = None,
) -> Template:
    """A tenant's own copy of a template, with changes applied: version 1 of a new id
    (by default `<tenant id>.<template id>`), owned by the tenant, remembering what it
    was copied from. Pure: publish it with `TemplateCatalogue.with_template`."""
    if not isinstance(tenant_id, str) or not TEMPLATE_ID.match(tenant_id):
        raise InvalidCommand("tenant_id", f"{tenant_id!r} is not a valid tenant id")
    base_id = template.id.split(".", 1)[1] if template.owner == tenant_id else template.id
    return _apply(
        template,
        changes,
        id=template_id if template_id is not None else f"{tenant_id}.{base_id}",
        version=1,
        owner=tenant_id,
        based_on=template.ref,
        name=name if name is not None else template.name,
    )


def revise(template: Template, *changes: Change, name: LocalizedText | None = None) -> Template:
    """The next version of a tenant's template. Shipped templates change through their
    files (see services/actions/templates/README.md)."""
    if template.owner is None:
        raise PreconditionFailed(
            f"{template.id} is a shipped template; copy it for the tenant (copy_for_tenant) and revise the copy"
        )
    return _apply(
        template, changes, version=template.version + 1, name=name if name is not None else template.name
    )
