"""Reading the audit service's configuration documents (policies, approval workflows)
strictly: YAML as plain values, with the line of every key path, so each problem is
reported as file, key path and reason."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from services.audit.domain.errors import DocumentError


class YamlDocument:
    """A YAML document as plain values, with the line of every key path for errors.
    Problems are raised as `error` (a DocumentError class) naming `source`."""

    def __init__(self, text: str, source: str, error: type[DocumentError]) -> None:
        self.source = source
        self.error = error
        self.lines: dict[str, int] = {}
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            self.value = None if node is None else self._plain(loader, node, "")
        except yaml.MarkedYAMLError as problem:
            mark = problem.problem_mark or problem.context_mark
            raise error(
                source, "", f"not valid YAML: {problem.problem or problem.context}", mark.line + 1 if mark else None
            ) from None
        except yaml.YAMLError as problem:
            raise error(source, "", f"not valid YAML: {problem}") from None
        finally:
            loader.dispose()

    def _plain(self, loader: yaml.SafeLoader, node: yaml.Node, path: str) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node)
                if not isinstance(key, str):
                    raise self.error(self.source, path, f"key {key!r} is not text", key_node.start_mark.line + 1)
                child = f"{path}.{key}" if path else key
                if key in result:
                    raise self.error(self.source, child, "appears twice", key_node.start_mark.line + 1)
                self.lines[child] = key_node.start_mark.line + 1
                result[key] = self._plain(loader, value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._plain(loader, item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        return loader.construct_object(node)

    def fail(self, path: str, problem: str) -> DocumentError:
        line = self.lines.get(path)
        parent = path
        while line is None and parent:
            parent = parent.rpartition(".")[0] if "." in parent else parent.rpartition("[")[0]
            line = self.lines.get(parent)
        return self.error(self.source, path, problem, line)


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    kind = {bool: "boolean", int: "integer", float: "number", str: "text", list: "list", dict: "mapping"}
    return f"{kind.get(type(value), type(value).__name__)} {value!r}"


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class DocumentReader:
    """Typed reads of a document's values; each refusal names the key path."""

    def __init__(self, document: YamlDocument) -> None:
        self.doc = document

    def mapping(self, value: Any, path: str, keys: Mapping[str, bool]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.doc.fail(path, f"must be a mapping, got {describe(value)}")
        for key in value:
            if key not in keys:
                raise self.doc.fail(join(path, key), f"unknown key; allowed keys are {', '.join(keys)}")
        for key, required in keys.items():
            if required and key not in value:
                raise self.doc.fail(join(path, key), "is required")
        return value

    def text(self, value: Any, path: str, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.doc.fail(path, f"must be non-empty text, got {describe(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.doc.fail(path, f"{value!r} is not {what}")
        return value.strip()

    def integer(self, value: Any, path: str, minimum: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.doc.fail(path, f"must be an integer of at least {minimum}, got {describe(value)}")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.doc.fail(path, f"must be true or false, got {describe(value)}")
        return value

    def choice(self, value: Any, path: str, choices: Iterable[str]) -> str:
        choices = tuple(choices)
        if value not in choices:
            raise self.doc.fail(path, f"must be one of {', '.join(choices)}, got {describe(value)}")
        return value

    def names(self, value: Any, path: str, pattern: re.Pattern[str], what: str) -> frozenset[str]:
        if not isinstance(value, list) or not value:
            raise self.doc.fail(path, f"must be a non-empty list of {what}s, got {describe(value)}")
        seen: set[str] = set()
        for index, item in enumerate(value):
            name = self.text(item, f"{path}[{index}]", pattern, f"a valid {what}")
            if name in seen:
                raise self.doc.fail(f"{path}[{index}]", f"{what} {name!r} is listed twice")
            seen.add(name)
        return frozenset(seen)
