"""Read templates from YAML, strictly, reporting every problem with its file, line and
key path.

The text is composed into YAML nodes (not loaded into dicts) so each value keeps the
line it came from; the reader then checks keys and types, builds the model objects
(which check values), and finally the `Template` checks its stage graph. Problems found
at any step are reported together, in file order.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.templates.catalogue import TemplateCatalogue
from services.actions.domain.templates.errors import Problem, TemplateError
from services.actions.domain.templates.model import (
    ActionSpec,
    AttachmentTemplate,
    LocalizedText,
    Stage,
    Template,
    TemplateRef,
)
from services.actions.domain.templates.verifiers import EVIDENCE_KINDS, Param, evidence_from_params

# services/actions/templates: the industry templates shipped with Dealpulse.
SHIPPED_DIRECTORY = Path(__file__).resolve().parents[2] / "templates"
# <template id>.yaml is the current version; <template id>.v<N>.yaml keeps version N for
# the opportunities that started on it.
FILE_NAME = re.compile(r"^(?P<id>[a-z][a-z0-9_]{0,63})(?:\.v(?P<version>[1-9][0-9]*))?\.yaml$")

_TAG = "tag:yaml.org,2002:"
_TYPE_NAMES = {
    "text": "text",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "text_list": "a list of text",
}

# key -> required
TOP_KEYS = {
    "id": True,
    "version": True,
    "name": True,
    "industry": True,
    "description": False,
    "owner": False,
    "based_on": False,
    "stages": True,
}
TEXT_KEYS = {"zh": True, "en": True}
REF_KEYS = {"id": True, "version": True}
STAGE_KEYS = {"id": True, "name": True, "benchmark_dwell_hours": False, "next": False, "actions": False}
ACTION_KEYS = {
    "id": True,
    "name": True,
    "mandatory": True,
    "evidence": True,
    "due_offset_hours": True,
    "attachment_template": False,
}
ATTACHMENT_TEMPLATE_KEYS = {"file": True, "description": True}


def load_template(text: str, source_name: str, *, known_roles: Collection[str] | None = None) -> Template:
    """Parse and validate one template; raise TemplateError naming every problem.

    `known_roles`: the roles users can hold (kernel.auth.ROLES); when given, an approval
    from any other role is an error, since nobody could ever grant it."""
    template, _ = _load(text, source_name, known_roles)
    return template


def load_catalogue(
    directory: str | Path = SHIPPED_DIRECTORY, *, known_roles: Collection[str] | None = None
) -> TemplateCatalogue:
    """Load every `*.yaml` file of a directory of shipped templates.

    Besides each file's own validity: the file name must be `<id>.yaml` (the current
    version) or `<id>.v<version>.yaml` (an older version kept for pinned opportunities),
    the current file must hold the highest version, shipped templates have no owner, and
    no (id, version) is defined twice. Other files (the README) are ignored."""
    problems: list[Problem] = []
    loaded: dict[TemplateRef, tuple[str, Template]] = {}
    current: dict[str, tuple[str, int | None, Template]] = {}
    archived: dict[str, list[tuple[str, int | None, Template]]] = {}
    directory = Path(directory)
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix not in (".yaml", ".yml"):
            continue
        source = str(path)
        match = FILE_NAME.match(path.name)
        if match is None:
            problems.append(
                Problem(
                    source,
                    None,
                    "",
                    "file name must be <template id>.yaml or <template id>.v<version>.yaml "
                    "(lowercase letters, digits and '_')",
                )
            )
            continue
        try:
            template, lines = _load(path.read_text(encoding="utf-8"), source, known_roles)
        except TemplateError as exc:
            problems.extend(exc.problems)
            continue
        before = len(problems)
        if template.id != match["id"]:
            problems.append(
                Problem(source, lines.get("id"), "id", f"template id '{template.id}' does not match the file name")
            )
        if match["version"] is not None and template.version != int(match["version"]):
            problems.append(
                Problem(
                    source,
                    lines.get("version"),
                    "version",
                    f"version {template.version} does not match the file name (v{match['version']})",
                )
            )
        if template.owner is not None:
            problems.append(
                Problem(source, lines.get("owner"), "owner", "shipped templates have no owner; tenants own copies")
            )
        if template.ref in loaded:
            problems.append(
                Problem(
                    source,
                    lines.get("id"),
                    "id",
                    f"template {template.ref} is already defined in {loaded[template.ref][0]}",
                )
            )
        if len(problems) > before:
            continue
        loaded[template.ref] = (source, template)
        entry = (source, lines.get("version"), template)
        if match["version"] is None:
            current[template.id] = entry
        else:
            archived.setdefault(template.id, []).append(entry)
    for template_id, versions in archived.items():
        if template_id not in current:
            source, line, template = versions[0]
            problems.append(
                Problem(source, line, "version", f"an archived version needs the current file {template_id}.yaml")
            )
            continue
        source, line, template = current[template_id]
        newest_archived = max(t.version for _, _, t in versions)
        if template.version <= newest_archived:
            problems.append(
                Problem(
                    source,
                    line,
                    "version",
                    f"the current file must hold the highest version; {template_id}.v{newest_archived}.yaml is "
                    f"version {newest_archived}",
                )
            )
    if problems:
        raise TemplateError(sorted(problems, key=lambda p: (p.source, p.line or 0)))
    return TemplateCatalogue(t for _, t in loaded.values())


def _load(text: str, source: str, known_roles: Collection[str] | None = None) -> tuple[Template, dict[str, int]]:
    reader = _Reader(source, known_roles)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = "; ".join(p for p in (exc.problem, exc.context) if p)
        if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
            detail += f" (started at line {exc.context_mark.line + 1})"
        line = mark.line + 1 if mark else None
        raise TemplateError([Problem(source, line, "", f"not valid YAML: {detail}")]) from None
    except yaml.YAMLError as exc:
        raise TemplateError([Problem(source, None, "", f"not valid YAML: {exc}")]) from None
    if root is None:
        raise TemplateError([Problem(source, 1, "", "the file is empty; a template starts with 'id:'")])
    reader.lines[""] = reader.line(root)
    template = reader.template(root)
    if reader.problems or template is None:
        raise TemplateError(reader.sorted_problems())
    return template, reader.lines


class _Reader:
    def __init__(self, source: str, known_roles: Collection[str] | None = None) -> None:
        self.source = source
        self.known_roles = None if known_roles is None else frozenset(known_roles)
        self.problems: list[Problem] = []
        # Key path -> 1-based line of its value.
        self.lines: dict[str, int] = {}
        self._constructor = yaml.SafeLoader("")
        # Mappings with unknown, duplicate or missing keys: their contents are still
        # checked, but the object is not built (its errors would only echo the typo).
        self.incomplete: set[str] = set()

    # ---- reporting ------------------------------------------------------------------

    @staticmethod
    def line(node: Node) -> int:
        return node.start_mark.line + 1

    def line_for(self, path: str) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one (a missing key is
        reported at the mapping that lacks it)."""
        while path not in self.lines and path:
            path = re.sub(r"(\.[^.\[\]]+|\[\d+\]|^[^.\[\]]+)$", "", path)
        return self.lines.get(path)

    def fail(self, path: str, problem: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.source, line if line is not None else self.line_for(path), path, problem))

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: p.line or 0)

    def build(self, path: str, build: Callable[[], Any]) -> Any:
        """Run a model constructor; an InvalidCommand names the field under `path`."""
        if path in self.incomplete:
            return None
        try:
            return build()
        except InvalidCommand as exc:
            self.fail(_join(path, exc.field), exc.problem)
            return None

    # ---- shapes and scalars -----------------------------------------------------------

    def mapping(self, node: Node, path: str, keys: Mapping[str, bool]) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.fail(path, f"must be a mapping of keys ({', '.join(keys)}); got {_describe(node)}", self.line(node))
            return None
        found: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str) or key_node.tag not in (_TAG + "str", _TAG + "merge"):
                self.fail(path or "(document)", f"keys must be text; got {_describe(key_node)}", self.line(key_node))
                self.incomplete.add(path)
                continue
            child = _join(path, key)
            if key in key_lines:
                self.fail(child, f"duplicate key '{key}' (first at line {key_lines[key]})", self.line(key_node))
                self.incomplete.add(path)
                continue
            key_lines[key] = self.line(key_node)
            if key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.fail(child, f"unknown key '{key}'{hint} (allowed: {', '.join(keys)})", self.line(key_node))
                self.incomplete.add(path)
                continue
            self.lines[child] = self.line(value_node)
            found[key] = value_node
        for key, required in keys.items():
            if required and key not in key_lines:
                self.fail(_join(path, key), "is required", self.line(node))
                self.incomplete.add(path)
        return found

    def sequence(self, node: Node, path: str) -> list[tuple[str, Node]] | None:
        if not isinstance(node, SequenceNode):
            self.fail(path, f"must be a list; got {_describe(node)}", self.line(node))
            return None
        items = []
        for index, item in enumerate(node.value):
            item_path = f"{path}[{index}]"
            self.lines[item_path] = self.line(item)
            items.append((item_path, item))
        return items

    def scalar(self, node: Node, path: str, kind: str) -> Any:
        tags = {
            "text": ("str",),
            "int": ("int",),
            "number": ("int", "float"),
            "bool": ("bool",),
        }[kind]
        if not isinstance(node, ScalarNode) or node.tag not in tuple(_TAG + t for t in tags):
            self.fail(path, f"must be {_TYPE_NAMES[kind]}; got {_describe(node)}", self.line(node))
            return None
        value = self._constructor.construct_object(node)
        if kind == "text" and not value.strip():
            self.fail(path, "must not be empty", self.line(node))
            return None
        return value

    def text_list(self, node: Node, path: str) -> list[str] | None:
        items = self.sequence(node, path)
        if items is None:
            return None
        values = [self.scalar(item, item_path, "text") for item_path, item in items]
        return None if any(v is None for v in values) else values

    def typed(self, node: Node, path: str, kind: str) -> Any:
        return self.text_list(node, path) if kind == "text_list" else self.scalar(node, path, kind)

    # ---- the template -------------------------------------------------------------------

    def localized(self, node: Node, path: str) -> LocalizedText | None:
        found = self.mapping(node, path, TEXT_KEYS)
        if found is None:
            return None
        values = {key: self.scalar(found[key], _join(path, key), "text") for key in TEXT_KEYS if key in found}
        if len(values) < len(TEXT_KEYS) or None in values.values():
            return None
        return self.build(path, lambda: LocalizedText(**values))

    def template(self, root: Node) -> Template | None:
        found = self.mapping(root, "", TOP_KEYS)
        if found is None:
            return None
        fields: dict[str, Any] = {}
        for key, kind in (("id", "text"), ("version", "int"), ("industry", "text"), ("owner", "text")):
            if key in found:
                fields[key] = self.scalar(found[key], key, kind)
        for key in ("name", "description"):
            if key in found:
                fields[key] = self.localized(found[key], key)
        if "based_on" in found:
            fields["based_on"] = self.ref(found["based_on"], "based_on")
        stages: list[Stage | None] = []
        if "stages" in found:
            items = self.sequence(found["stages"], "stages") or []
            stages = [self.stage(node, path) for path, node in items]
        if self.problems or None in fields.values() or None in stages:
            return None
        try:
            return Template(stages=tuple(stages), **fields)
        except TemplateError as exc:
            for p in exc.problems:
                self.fail(p.path, p.problem)
            return None

    def ref(self, node: Node, path: str) -> TemplateRef | None:
        found = self.mapping(node, path, REF_KEYS)
        if found is None or len(found) < len(REF_KEYS):
            return None
        template_id = self.scalar(found["id"], _join(path, "id"), "text")
        version = self.scalar(found["version"], _join(path, "version"), "int")
        if template_id is None or version is None:
            return None
        try:
            return TemplateRef(template_id, version)
        except InvalidCommand as exc:
            self.fail(_join(path, "id" if exc.field == "template_id" else exc.field), exc.problem)
            return None

    def stage(self, node: Node, path: str) -> Stage | None:
        found = self.mapping(node, path, STAGE_KEYS)
        if found is None:
            return None
        fields: dict[str, Any] = {}
        if "id" in found:
            fields["id"] = self.scalar(found["id"], _join(path, "id"), "text")
        if "name" in found:
            fields["name"] = self.localized(found["name"], _join(path, "name"))
        if "benchmark_dwell_hours" in found:
            fields["benchmark_dwell_hours"] = self.scalar(
                found["benchmark_dwell_hours"], _join(path, "benchmark_dwell_hours"), "number"
            )
        if "next" in found:
            fields["next"] = self.text_list(found["next"], _join(path, "next"))
        actions: list[ActionSpec | None] = []
        if "actions" in found:
            items = self.sequence(found["actions"], _join(path, "actions")) or []
            actions = [self.action(item, item_path) for item_path, item in items]
        if len(fields) < 2 or None in fields.values() or None in actions:
            return None
        return self.build(path, lambda: Stage(actions=tuple(actions), **fields))

    def action(self, node: Node, path: str) -> ActionSpec | None:
        found = self.mapping(node, path, ACTION_KEYS)
        if found is None:
            return None
        fields: dict[str, Any] = {}
        for key, kind in (("id", "text"), ("mandatory", "bool"), ("due_offset_hours", "number")):
            if key in found:
                fields[key] = self.scalar(found[key], _join(path, key), kind)
        if "name" in found:
            fields["name"] = self.localized(found["name"], _join(path, "name"))
        if "evidence" in found:
            fields["evidence"] = self.evidence(found["evidence"], _join(path, "evidence"))
        if "attachment_template" in found:
            fields["attachment_template"] = self.attachment_template(
                found["attachment_template"], _join(path, "attachment_template")
            )
        if len(fields) < sum(ACTION_KEYS.values()) or None in fields.values():
            return None
        return self.build(path, lambda: ActionSpec(**fields))

    def attachment_template(self, node: Node, path: str) -> AttachmentTemplate | None:
        found = self.mapping(node, path, ATTACHMENT_TEMPLATE_KEYS)
        if found is None or len(found) < len(ATTACHMENT_TEMPLATE_KEYS):
            return None
        file = self.scalar(found["file"], _join(path, "file"), "text")
        description = self.localized(found["description"], _join(path, "description"))
        if file is None or description is None:
            return None
        return self.build(path, lambda: AttachmentTemplate(file=file, description=description))

    def evidence(self, node: Node, path: str):
        if not isinstance(node, MappingNode):
            self.fail(path, f"must be a mapping with a 'kind' ({', '.join(EVIDENCE_KINDS)}); got {_describe(node)}")
            return None
        kind_node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == "kind"), None)
        if kind_node is None:
            self.fail(_join(path, "kind"), f"is required ({', '.join(EVIDENCE_KINDS)})", self.line(node))
            return None
        kind = self.scalar(kind_node, _join(path, "kind"), "text")
        if kind is None:
            return None
        rule = EVIDENCE_KINDS.get(kind)
        if rule is None:
            self.fail(
                _join(path, "kind"),
                f"unknown evidence kind '{kind}'; kinds are {', '.join(EVIDENCE_KINDS)}",
                self.line(kind_node),
            )
            return None
        params: Mapping[str, Param] = rule.PARAMS
        found = self.mapping(node, path, {"kind": True, **{name: p.required for name, p in params.items()}})
        if found is None:
            return None
        values = {
            name: self.typed(found[name], _join(path, name), param.type)
            for name, param in params.items()
            if name in found
        }
        if any(p.required and n not in found for n, p in params.items()) or None in values.values():
            return None
        role = values.get("approver_role")
        if kind == "approval" and self.known_roles is not None and role not in self.known_roles:
            self.fail(
                _join(path, "approver_role"),
                f"unknown role '{role}': nobody could grant this approval; "
                f"roles are {', '.join(sorted(self.known_roles))}",
            )
            return None
        return self.build(path, lambda: evidence_from_params(kind, values))


def _join(path: str, key: str) -> str:
    if not key:
        return path
    return f"{path}.{key}" if path else key


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag.removeprefix(_TAG)
    value = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return {
        "null": "nothing (an empty value)",
        "str": f"the text {value!r}",
        "int": f"the number {value}",
        "float": f"the number {value}",
        "bool": f"{value} (true/false)",
    }.get(tag, f"{value!r} ({node.tag})")


def dump_template(template: Template) -> str:
    """The template as YAML in the file format (what a tenant copy is stored as)."""
    return yaml.safe_dump(template.to_dict(), allow_unicode=True, sort_keys=False, width=120)


__all__ = ["SHIPPED_DIRECTORY", "dump_template", "load_catalogue", "load_template"]
