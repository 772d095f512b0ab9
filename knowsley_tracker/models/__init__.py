"""The domain model: one dataclass per record kind, plus the vocabularies they use.

``to_record()`` and ``from_record()`` are the only place field names meet the stored JSON: dates
become ISO ``YYYY-MM-DD`` strings, enums their values. Shape checks live in ``__post_init__``;
checks that need other records live in the service layer. Nothing here imports storage, rendering
or the CLI. One module per concern:

    vocabularies.py       the closed lists users choose from (Status, Rag, Judgement, kinds...)
    record.py             Record, the base of every kind, and its mapping to and from plain JSON
    plan_records.py       the plan itself: inspections, focus areas, owners, recommendations,
                          actions, the progress log, evidence, visits, reminders
    kpi_records.py        KPIs and the values reported for them
    oversight_records.py  board meetings, interventions and partners
    record_kinds.py       every kind by table and prefix, and parsing a reference such as ``A12``

Every public name is re-exported here, so ``from knowsley_tracker.models import Action`` keeps
working. Tests that patch the loaders patch ``models.record`` (``GENERATE_AFTER``, ``_LOADERS``).
"""

from knowsley_tracker.models.kpi_records import (
    COMPARATOR_KINDS as COMPARATOR_KINDS,
)
from knowsley_tracker.models.kpi_records import (
    LARGEST_COUNT as LARGEST_COUNT,
)
from knowsley_tracker.models.kpi_records import (
    LARGEST_KPI_FIGURE as LARGEST_KPI_FIGURE,
)
from knowsley_tracker.models.kpi_records import (
    Kpi as Kpi,
)
from knowsley_tracker.models.kpi_records import (
    KpiValue as KpiValue,
)
from knowsley_tracker.models.oversight_records import (
    Board as Board,
)
from knowsley_tracker.models.oversight_records import (
    Intervention as Intervention,
)
from knowsley_tracker.models.oversight_records import (
    Partner as Partner,
)
from knowsley_tracker.models.plan_records import (
    Action as Action,
)
from knowsley_tracker.models.plan_records import (
    Evidence as Evidence,
)
from knowsley_tracker.models.plan_records import (
    FocusArea as FocusArea,
)
from knowsley_tracker.models.plan_records import (
    Inspection as Inspection,
)
from knowsley_tracker.models.plan_records import (
    LogEntry as LogEntry,
)
from knowsley_tracker.models.plan_records import (
    Owner as Owner,
)
from knowsley_tracker.models.plan_records import (
    Recommendation as Recommendation,
)
from knowsley_tracker.models.plan_records import (
    Reminder as Reminder,
)
from knowsley_tracker.models.plan_records import (
    Visit as Visit,
)
from knowsley_tracker.models.plan_records import (
    check_progress as check_progress,
)
from knowsley_tracker.models.record import (
    GENERATE_AFTER as GENERATE_AFTER,
)
from knowsley_tracker.models.record import (
    TIMESTAMP_FIELDS as TIMESTAMP_FIELDS,
)
from knowsley_tracker.models.record import (
    Record as Record,
)
from knowsley_tracker.models.record import (
    optional_text as optional_text,
)
from knowsley_tracker.models.record import (
    require_dates_in_range as require_dates_in_range,
)
from knowsley_tracker.models.record import (
    require_text as require_text,
)
from knowsley_tracker.models.record_kinds import (
    PREFIXES as PREFIXES,
)
from knowsley_tracker.models.record_kinds import (
    RECORD_TYPES as RECORD_TYPES,
)
from knowsley_tracker.models.record_kinds import (
    TABLES as TABLES,
)
from knowsley_tracker.models.record_kinds import (
    parse_ref as parse_ref,
)
from knowsley_tracker.models.record_kinds import (
    record_noun as record_noun,
)
from knowsley_tracker.models.vocabularies import (
    JUDGEMENT_AREAS as JUDGEMENT_AREAS,
)
from knowsley_tracker.models.vocabularies import (
    OVERRIDABLE_RAGS as OVERRIDABLE_RAGS,
)
from knowsley_tracker.models.vocabularies import (
    RAG_ORDER as RAG_ORDER,
)
from knowsley_tracker.models.vocabularies import (
    EvidenceKind as EvidenceKind,
)
from knowsley_tracker.models.vocabularies import (
    Framework as Framework,
)
from knowsley_tracker.models.vocabularies import (
    InspectionType as InspectionType,
)
from knowsley_tracker.models.vocabularies import (
    InterventionType as InterventionType,
)
from knowsley_tracker.models.vocabularies import (
    Judgement as Judgement,
)
from knowsley_tracker.models.vocabularies import (
    PartnerKind as PartnerKind,
)
from knowsley_tracker.models.vocabularies import (
    Rag as Rag,
)
from knowsley_tracker.models.vocabularies import (
    Status as Status,
)
from knowsley_tracker.models.vocabularies import (
    VisitStatus as VisitStatus,
)
from knowsley_tracker.models.vocabularies import (
    Vocabulary as Vocabulary,
)
from knowsley_tracker.models.vocabularies import (
    normalise_word as normalise_word,
)
