"""The closed lists of values records use (status, RAG, judgements, kinds), matched leniently
when a user types one.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import TypeVar

from knowsley_tracker.errors import ValidationError

E = TypeVar("E", bound="Vocabulary")


def normalise_word(text: str) -> str:
    """Fold case, spaces, hyphens and underscores: ``In progress`` -> ``inprogress``."""
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


class Vocabulary(StrEnum):
    """A closed list of values, matched leniently when a user types one."""

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """Other words users type for a value (normalised word -> value)."""
        return {}

    @classmethod
    def parse(cls: type[E], text: str, what: str | None = None) -> E:
        """Match ``text`` ignoring case, spaces, hyphens and underscores."""
        word = normalise_word(text)
        for member in cls:
            if normalise_word(member.value) == word:
                return member
        alias = cls.aliases().get(word)
        if alias is not None:
            return cls(alias)
        label = what or cls.__name__.lower()
        choices = ", ".join(m.value for m in cls)
        from knowsley_tracker.suggest import nearest

        names = {normalise_word(m.value): m.value for m in cls} | {a: v for a, v in cls.aliases().items()}
        guess = nearest(word, names) if word else None
        if guess is not None:
            raise ValidationError(f"Unknown {label} {text!r}; did you mean {guess}? (Choose one of {choices}.)")
        raise ValidationError(f"Unknown {label} {text!r}: choose one of {choices}.")

    @property
    def label(self) -> str:
        """The value as people write it."""
        return self.value.replace("-", " ").capitalize()


class Status(Vocabulary):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    BLOCKED = "blocked"
    COMPLETE = "complete"
    DROPPED = "dropped"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {
            "completed": "complete",
            "done": "complete",
            "closed": "complete",
            "started": "in-progress",
            "ongoing": "in-progress",
            "onhold": "blocked",
            "notyetstarted": "not-started",
            "todo": "not-started",
            "open": "not-started",
            "cancelled": "dropped",
            "superseded": "dropped",
        }

    @property
    def is_open(self) -> bool:
        return self not in (Status.COMPLETE, Status.DROPPED)


class Rag(Vocabulary):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    COMPLETE = "complete"
    BLUE = "blue"
    DROPPED = "dropped"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"r": "red", "a": "amber", "g": "green", "b": "blue", "bluecompleteverified": "blue"}

    @property
    def label(self) -> str:
        # str.__str__ rather than .value: Enum's value property is slow, and reports call this per row.
        return "Blue (complete, evidenced)" if self is Rag.BLUE else str.__str__(self).capitalize()


# RAG values an officer may set by hand (the others follow from status and evidence).
OVERRIDABLE_RAGS = (Rag.RED, Rag.AMBER, Rag.GREEN)
# Display order, worst first, used for roll-ups and sorting.
RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE, Rag.COMPLETE, Rag.DROPPED)


class Judgement(Vocabulary):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires-improvement"
    INADEQUATE = "inadequate"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {
            "ri": "requires-improvement",
            "requiresimprovementtobegood": "requires-improvement",
            "requiresimprovement": "requires-improvement",
        }

    @property
    def label(self) -> str:
        if self is Judgement.REQUIRES_IMPROVEMENT:
            return "Requires improvement to be good"
        return self.value.capitalize()


class InspectionType(Vocabulary):
    STANDARD = "standard"
    SHORT = "short"
    FOCUSED_VISIT = "focused-visit"
    JTAI = "jtai"
    MONITORING_VISIT = "monitoring-visit"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {
            "standardinspection": "standard",
            "ilacs": "standard",
            "full": "standard",
            "reinspection": "standard",
            "sif": "standard",
            "shortinspection": "short",
            "focused": "focused-visit",
            "monitoring": "monitoring-visit",
            "mv": "monitoring-visit",
            "jointtargetedareainspection": "jtai",
        }

    @property
    def label(self) -> str:
        return {
            "standard": "Standard inspection",
            "short": "Short inspection",
            "focused-visit": "Focused visit",
            "jtai": "Joint targeted area inspection",
            "monitoring-visit": "Monitoring visit",
        }[self.value]

    @property
    def is_graded(self) -> bool:
        """Only full inspections carry judgements; visits and JTAIs are not graded."""
        return self in (InspectionType.STANDARD, InspectionType.SHORT)


class Framework(Vocabulary):
    ILACS_2023 = "ilacs-2023"
    ILACS_2018 = "ilacs-2018"
    SIF = "sif"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"ilacs": "ilacs-2023", "singleinspectionframework": "sif"}

    @property
    def label(self) -> str:
        return {
            "ilacs-2023": "ILACS (from January 2023)",
            "ilacs-2018": "ILACS (2018 to 2022)",
            "sif": "Single inspection framework (2013 to 2017)",
        }[self.value]

    @classmethod
    def in_force_on(cls, day: date) -> Framework:
        """The framework Ofsted used for inspections starting on ``day``."""
        if day >= date(2023, 1, 1):
            return cls.ILACS_2023
        if day >= date(2018, 1, 1):
            return cls.ILACS_2018
        return cls.SIF


# Judgement areas per framework: key -> the heading as printed in reports.
JUDGEMENT_AREAS: dict[Framework, dict[str, str]] = {
    Framework.ILACS_2023: {
        "leaders": "The impact of leaders on social work practice with children and families",
        "help-protection": "The experiences and progress of children who need help and protection",
        "children-in-care": "The experiences and progress of children in care",
        "care-leavers": "The experiences and progress of care leavers",
    },
    Framework.ILACS_2018: {
        "leaders": "The impact of leaders on social work practice with children and families",
        "help-protection": "The experiences and progress of children who need help and protection",
        "children-in-care": "The experiences and progress of children in care and care leavers",
    },
    Framework.SIF: {
        "help-protection": "Children who need help and protection",
        "looked-after": "Children looked after and achieving permanence",
        "adoption": "Adoption performance",
        "care-leavers": "Experiences and progress of care leavers",
        "leadership": "Leadership, management and governance",
    },
}


class VisitStatus(Vocabulary):
    PROJECTED = "projected"
    EXPECTED = "expected"
    CONFIRMED = "confirmed"
    DONE = "done"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"completed": "done", "complete": "done", "held": "done", "planned": "expected"}


class EvidenceKind(Vocabulary):
    DOCUMENT = "document"
    AUDIT = "audit"
    DATA = "data"
    MINUTES = "minutes"
    FEEDBACK = "feedback"
    TRAINING = "training"
    POLICY = "policy"
    OTHER = "other"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"doc": "document", "report": "document", "kpi": "data", "survey": "feedback"}


class InterventionType(Vocabulary):
    IMPROVEMENT_NOTICE = "improvement-notice"
    STATUTORY_DIRECTION = "statutory-direction"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"notice": "improvement-notice", "direction": "statutory-direction"}


class PartnerKind(Vocabulary):
    SLIP = "slip"
    SPECIALIST = "specialist"
    ADVISER = "adviser"
    OTHER = "other"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"sectorledimprovementpartner": "slip", "consultant": "specialist", "external": "specialist"}

    @property
    def label(self) -> str:
        return "SLIP (sector-led improvement partner)" if self is PartnerKind.SLIP else self.value.capitalize()
