"""Industry action templates: stages, mandatory actions, evidence verification and stage
gates. Pure domain code: no I/O beyond reading template files in `loader`.

- `model`: Template, Stage, ActionSpec, TemplateRef (what an opportunity pins).
- `verifiers`: the evidence kinds (form, count, attachment, activity, approval).
- `submission`: what a rep sends for one action.
- `loader`: YAML files -> templates, with file/line/key-path errors.
- `catalogue`: versions, tenant copies, exact resolution.
- `gates`: what is missing before an opportunity may leave a stage.
"""

from services.actions.domain.templates.catalogue import (
    AddAction,
    AddStage,
    RemoveAction,
    RemoveStage,
    SetAttachmentTemplate,
    SetBenchmarkDwell,
    SetDueOffset,
    SetEvidence,
    SetMandatory,
    SetNext,
    TemplateCatalogue,
    copy_for_tenant,
    revise,
)
from services.actions.domain.templates.errors import Problem, TemplateError
from services.actions.domain.templates.gates import (
    GateBlocked,
    MissingAction,
    best_verdicts,
    missing_for_advance,
    require_advance,
)
from services.actions.domain.templates.loader import (
    SHIPPED_DIRECTORY,
    dump_template,
    load_catalogue,
    load_template,
)
from services.actions.domain.templates.model import (
    ActionSpec,
    AttachmentTemplate,
    LocalizedText,
    Stage,
    Template,
    TemplateRef,
)
from services.actions.domain.templates.submission import (
    ActivityFacts,
    ActivityKind,
    ApprovalDecision,
    ApprovalFacts,
    Attachment,
    Submission,
)
from services.actions.domain.templates.verifiers import (
    EVIDENCE_KINDS,
    ActivityEvidence,
    ApprovalEvidence,
    AttachmentEvidence,
    CountEvidence,
    EvidenceRule,
    FormEvidence,
)

__all__ = [
    "EVIDENCE_KINDS",
    "SHIPPED_DIRECTORY",
    "ActionSpec",
    "ActivityEvidence",
    "ActivityFacts",
    "ActivityKind",
    "AddAction",
    "AddStage",
    "ApprovalDecision",
    "ApprovalEvidence",
    "ApprovalFacts",
    "Attachment",
    "AttachmentEvidence",
    "AttachmentTemplate",
    "CountEvidence",
    "EvidenceRule",
    "FormEvidence",
    "GateBlocked",
    "LocalizedText",
    "MissingAction",
    "Problem",
    "RemoveAction",
    "RemoveStage",
    "SetAttachmentTemplate",
    "SetBenchmarkDwell",
    "SetDueOffset",
    "SetEvidence",
    "SetMandatory",
    "SetNext",
    "Stage",
    "Submission",
    "Template",
    "TemplateCatalogue",
    "TemplateError",
    "TemplateRef",
    "best_verdicts",
    "copy_for_tenant",
    "dump_template",
    "load_catalogue",
    "load_template",
    "missing_for_advance",
    "require_advance",
    "revise",
]
