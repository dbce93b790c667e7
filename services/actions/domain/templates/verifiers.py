"""Evidence rules: what makes one template action count, and the verifier that decides.

Each rule is a frozen dataclass whose fields are its parameters in the template file
(`evidence: {kind: form, form: …, required_fields: […], threshold: 0.9}`); the
constructor checks them (raising `InvalidCommand` naming the parameter), so a rule that
exists is a rule that makes sense. `verify(submission)` returns a `Verdict` whose reasons
say, in words a rep understands, what is missing.

Adding a kind: write the dataclass with `kind`, `PARAMS`, `verify`, `requirement` and
`to_dict`, and register it in `EVIDENCE_KINDS`; the loader needs no change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any, ClassVar, Literal

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.evidence import Verdict
from services.actions.domain.templates.submission import (
    ActivityFacts,
    ActivityKind,
    ApprovalDecision,
    Submission,
)

NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")
# How many offending entries a reason lists before it says "and N more".
_LIST_LIMIT = 5

ParamType = Literal["text", "int", "number", "bool", "text_list"]


@dataclass(frozen=True)
class Param:
    type: ParamType
    required: bool = True


def require_name(value: str, field: str, what: str = "name") -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidCommand(
            field,
            f"{value!r} is not a valid {what}: use 1-64 lowercase letters, digits and '_', starting with a letter",
        )
    return value


def _names(values: Any, field: str, what: str) -> tuple[str, ...]:
    values = tuple(values)
    if not values:
        raise InvalidCommand(field, "must list at least one entry")
    seen: set[str] = set()
    for value in values:
        require_name(value, field, what)
        if value in seen:
            raise InvalidCommand(field, f"lists {value!r} twice")
        seen.add(value)
    return values


def _percent(value: Fraction) -> str:
    """Whole percent, rounded down so '90 %' never hides 89.9 %."""
    return f"{int(value * 100)} %"


def _threshold_percent(value: Fraction) -> str:
    return f"{float(value * 100):g} %"


def _minutes(value: float) -> str:
    return f"{value:g} min"


def _listing(values: list[str]) -> str:
    shown = values[:_LIST_LIMIT]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, set, frozenset, dict)) or isinstance(value, Mapping):
        return any(_filled(v) for v in (value.values() if isinstance(value, Mapping) else value))
    # Numbers and booleans are answers, zero and false included.
    return True


def _verdict(reasons: list[str]) -> Verdict:
    return Verdict(valid=not reasons, reasons=tuple(reasons))


@dataclass(frozen=True)
class FormEvidence:
    """A structured form that counts only when enough required fields are filled.

    The form counts when filled/required is *more than* `threshold` (the article: a
    needs-diagnosis form counts above 90 %); with `threshold: 1` every required field
    must be filled.
    """

    form: str
    required_fields: tuple[str, ...]
    threshold: float

    kind: ClassVar[str] = "form"
    PARAMS: ClassVar[Mapping[str, Param]] = {
        "form": Param("text"),
        "required_fields": Param("text_list"),
        "threshold": Param("number"),
    }

    def __post_init__(self) -> None:
        require_name(self.form, "form", "form id")
        object.__setattr__(self, "required_fields", _names(self.required_fields, "required_fields", "field id"))
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)):
            raise InvalidCommand("threshold", "must be a number")
        if not 0 < self.threshold <= 1:
            raise InvalidCommand(
                "threshold", f"must be more than 0 and at most 1 (a share, 0.9 = 90 %); got {self.threshold}"
            )
        object.__setattr__(self, "threshold", float(self.threshold))

    @property
    def _threshold(self) -> Fraction:
        # Exact decimal: 9 of 10 is not above 0.9, whatever binary floats say.
        return Fraction(repr(self.threshold))

    def _rule(self) -> str:
        if self.threshold == 1:
            return "it counts only when every required field is filled"
        return f"it counts above {_threshold_percent(self._threshold)}"

    def verify(self, submission: Submission) -> Verdict:
        values = submission.form
        missing = [name for name in self.required_fields if not _filled(values.get(name))]
        required = len(self.required_fields)
        filled = required - len(missing)
        share = Fraction(filled, required)
        if filled == required or share > self._threshold:
            return _verdict([])
        return _verdict(
            [
                f"form '{self.form}' is {_percent(share)} complete ({filled} of {required} required fields); "
                f"{self._rule()}; missing: {_listing(missing)}"
            ]
        )

    def requirement(self) -> str:
        if self.threshold == 1:
            return f"form '{self.form}' with all {len(self.required_fields)} required fields filled"
        return (
            f"form '{self.form}' more than {_threshold_percent(self._threshold)} complete "
            f"({len(self.required_fields)} required fields)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "form": self.form,
            "required_fields": list(self.required_fields),
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class CountEvidence:
    """At least `min_count` distinct, non-blank items (e.g. 3 pain-point questions).

    Items are compared ignoring case and spacing, so the same question typed three times
    counts once; items shorter than `min_chars` do not count.
    """

    item: str
    min_count: int
    min_chars: int = 0

    kind: ClassVar[str] = "count"
    PARAMS: ClassVar[Mapping[str, Param]] = {
        "item": Param("text"),
        "min_count": Param("int"),
        "min_chars": Param("int", required=False),
    }

    def __post_init__(self) -> None:
        require_name(self.item, "item", "item name")
        for name, low in (("min_count", 1), ("min_chars", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidCommand(name, "must be a whole number")
            if value < low:
                raise InvalidCommand(name, f"must be at least {low}; got {value}")

    def verify(self, submission: Submission) -> Verdict:
        seen: set[str] = set()
        blank = repeated = short = 0
        for entry in submission.items.get(self.item, ()):
            text = " ".join(entry.split())
            if not text:
                blank += 1
            elif len(text) < self.min_chars:
                short += 1
            elif text.casefold() in seen:
                repeated += 1
            else:
                seen.add(text.casefold())
        if len(seen) >= self.min_count:
            return _verdict([])
        ignored = [
            note
            for count, note in (
                (blank, f"{blank} blank"),
                (repeated, f"{repeated} repeated"),
                (short, f"{short} shorter than {self.min_chars} characters"),
            )
            if count
        ]
        tail = f" ({', '.join(ignored)} ignored)" if ignored else ""
        return _verdict([f"at least {self.min_count} '{self.item}' items are required; {len(seen)} counted{tail}"])

    def requirement(self) -> str:
        return f"at least {self.min_count} distinct '{self.item}' items"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "item": self.item, "min_count": self.min_count}
        if self.min_chars:
            out["min_chars"] = self.min_chars
        return out


@dataclass(frozen=True)
class AttachmentEvidence:
    """At least `min_files` attachments of a declared document type and file extension."""

    document_types: tuple[str, ...]
    extensions: tuple[str, ...]
    min_files: int = 1

    kind: ClassVar[str] = "attachment"
    PARAMS: ClassVar[Mapping[str, Param]] = {
        "document_types": Param("text_list"),
        "extensions": Param("text_list"),
        "min_files": Param("int", required=False),
    }

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "document_types", _names(self.document_types, "document_types", "document type")
        )
        extensions = tuple(self.extensions)
        if not extensions:
            raise InvalidCommand("extensions", "must list at least one entry")
        for ext in extensions:
            if not isinstance(ext, str) or not EXTENSION.match(ext):
                hint = " (write it without the dot)" if isinstance(ext, str) and ext.startswith(".") else ""
                raise InvalidCommand("extensions", f"{ext!r} is not a lowercase file extension{hint}")
        if len(set(extensions)) != len(extensions):
            raise InvalidCommand("extensions", "lists an extension twice")
        object.__setattr__(self, "extensions", extensions)
        if isinstance(self.min_files, bool) or not isinstance(self.min_files, int) or self.min_files < 1:
            raise InvalidCommand("min_files", f"must be a whole number of at least 1; got {self.min_files!r}")

    def accepts_extension(self, extension: str) -> bool:
        return extension.lower() in self.extensions

    def _wanted(self) -> str:
        types = " or ".join(self.document_types)
        exts = ", ".join(f".{e}" for e in self.extensions)
        count = "1 attachment" if self.min_files == 1 else f"{self.min_files} attachments"
        return f"{count} of type {types} ({exts})"

    def verify(self, submission: Submission) -> Verdict:
        accepted: set[tuple[str, str, str]] = set()
        rejected: list[str] = []
        for a in submission.attachments:
            name = a.file_name.strip()
            if a.document_type not in self.document_types:
                rejected.append(f"'{name}' is a {a.document_type or 'document of no declared type'}")
            elif not self.accepts_extension(a.extension):
                rejected.append(f"'{name}' has {'extension .' + a.extension if a.extension else 'no extension'}")
            elif a.size_bytes == 0:
                rejected.append(f"'{name}' is empty")
            else:
                accepted.add((a.document_type, name, a.file_id))
        if len(accepted) >= self.min_files:
            return _verdict([])
        if not submission.attachments:
            got = "nothing is attached"
        elif accepted:
            got = f"{len(accepted)} accepted" + (f"; {_listing(rejected)}" if rejected else "")
        else:
            got = _listing(rejected)
        return _verdict([f"needs {self._wanted()}; {got}"])

    def requirement(self) -> str:
        return self._wanted()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "document_types": list(self.document_types),
            "extensions": list(self.extensions),
        }
        if self.min_files != 1:
            out["min_files"] = self.min_files
        return out


@dataclass(frozen=True)
class ActivityEvidence:
    """An activity the activity stream recorded: an effective visit, a call of at least
    `min_minutes`, or a customer's email reply. A rep cannot type these facts in: each
    must reference the event that recorded it."""

    activity: ActivityKind
    min_minutes: float | None = None
    # Visits only: the activity stream must have judged the visit effective.
    require_effective: bool | None = None

    kind: ClassVar[str] = "activity"
    PARAMS: ClassVar[Mapping[str, Param]] = {
        "activity": Param("text"),
        "min_minutes": Param("number", required=False),
        "require_effective": Param("bool", required=False),
    }

    def __post_init__(self) -> None:
        try:
            activity = ActivityKind(self.activity)
        except ValueError:
            allowed = ", ".join(k.value for k in ActivityKind)
            raise InvalidCommand("activity", f"must be one of {allowed}; got {self.activity!r}") from None
        object.__setattr__(self, "activity", activity)
        if self.min_minutes is not None:
            if isinstance(self.min_minutes, bool) or not isinstance(self.min_minutes, (int, float)):
                raise InvalidCommand("min_minutes", "must be a number")
            if self.min_minutes <= 0:
                raise InvalidCommand("min_minutes", f"must be more than 0; got {self.min_minutes}")
            if activity is ActivityKind.EMAIL_REPLY:
                raise InvalidCommand("min_minutes", "an email reply has no duration")
        elif activity is ActivityKind.CALL:
            raise InvalidCommand("min_minutes", "is required for calls (how long an effective call lasts)")
        if self.require_effective is not None and activity is not ActivityKind.VISIT:
            raise InvalidCommand("require_effective", "applies to visits only")
        if activity is ActivityKind.VISIT and self.require_effective is None:
            object.__setattr__(self, "require_effective", True)

    def _wanted(self) -> str:
        if self.activity is ActivityKind.CALL:
            return f"a call of at least {_minutes(self.min_minutes or 0)}"
        if self.activity is ActivityKind.EMAIL_REPLY:
            return "an email reply from the customer"
        wanted = "an effective visit" if self.require_effective else "a visit"
        return wanted + (f" of at least {_minutes(self.min_minutes)}" if self.min_minutes else "")

    def _problems(self, facts: ActivityFacts) -> list[str]:
        problems: list[str] = []
        if not facts.event_id.strip():
            problems.append("it does not reference the activity event that recorded it")
        if self.activity is ActivityKind.CALL and facts.minutes < (self.min_minutes or 0):
            problems.append(f"the call lasted {_minutes(facts.minutes)}")
        if self.activity is ActivityKind.VISIT:
            if self.require_effective and not facts.effective:
                problems.append(
                    "the activity stream did not mark the visit effective "
                    "(on site, inside the customer's geofence, long enough)"
                )
            if self.min_minutes and facts.minutes < self.min_minutes:
                problems.append(f"the visit lasted {_minutes(facts.minutes)}")
        if self.activity is ActivityKind.EMAIL_REPLY and not facts.reply_message_id.strip():
            problems.append("it has no message id for the customer's reply")
        return problems

    def verify(self, submission: Submission) -> Verdict:
        candidates = [a for a in submission.activities if a.kind is self.activity]
        if not candidates:
            if submission.activities:
                other = ", ".join(sorted({a.kind.value for a in submission.activities}))
                return _verdict([f"needs {self._wanted()}; the attached activity is a {other}"])
            return _verdict([f"needs {self._wanted()}; no activity is attached"])
        explained: list[str] = []
        for facts in candidates:
            problems = self._problems(facts)
            if not problems:
                return _verdict([])
            explained.append(f"{self.activity.value} {facts.event_id or '(no event id)'}: {'; '.join(problems)}")
        return _verdict([f"needs {self._wanted()}; " + " / ".join(explained[:_LIST_LIMIT])])

    def requirement(self) -> str:
        return self._wanted()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "activity": self.activity.value}
        if self.min_minutes is not None:
            out["min_minutes"] = self.min_minutes
        if self.activity is ActivityKind.VISIT and not self.require_effective:
            out["require_effective"] = False
        return out


@dataclass(frozen=True)
class ApprovalEvidence:
    """An approval granted by someone holding `approver_role` (the audit service's
    approval workflow), and not by the person who submitted the action."""

    approver_role: str

    kind: ClassVar[str] = "approval"
    PARAMS: ClassVar[Mapping[str, Param]] = {"approver_role": Param("text")}

    def __post_init__(self) -> None:
        require_name(self.approver_role, "approver_role", "role")

    def verify(self, submission: Submission) -> Verdict:
        if not submission.approvals:
            return _verdict([f"needs an approval granted by a {self.approver_role}; none is attached"])
        explained: list[str] = []
        for a in submission.approvals:
            label = a.approval_id or "(no approval id)"
            if not a.approval_id.strip():
                explained.append(f"{label} does not reference an approval record")
            elif a.approver_role != self.approver_role:
                explained.append(f"{label} was decided by a {a.approver_role}")
            elif a.decision is not ApprovalDecision.GRANTED:
                explained.append(f"{label} is {a.decision.value}")
            elif submission.submitted_by and a.approver_id == submission.submitted_by:
                explained.append(f"{label} was approved by the submitter themselves")
            else:
                return _verdict([])
        return _verdict([f"needs an approval granted by a {self.approver_role}; {'; '.join(explained[:_LIST_LIMIT])}"])

    def requirement(self) -> str:
        return f"an approval granted by a {self.approver_role}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "approver_role": self.approver_role}


EvidenceRule = FormEvidence | CountEvidence | AttachmentEvidence | ActivityEvidence | ApprovalEvidence

EVIDENCE_KINDS: Mapping[str, type] = {
    cls.kind: cls for cls in (FormEvidence, CountEvidence, AttachmentEvidence, ActivityEvidence, ApprovalEvidence)
}


def evidence_from_params(kind: str, params: Mapping[str, Any]) -> EvidenceRule:
    """Build a rule from already-typed parameters (the loader checks types first)."""
    cls = EVIDENCE_KINDS.get(kind)
    if cls is None:
        raise InvalidCommand("kind", f"unknown evidence kind {kind!r}; kinds are {', '.join(EVIDENCE_KINDS)}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise InvalidCommand(unknown[0], f"is not a parameter of {kind} evidence")
    return cls(**params)
