"""The personal-data guard: free text that looks like data about a child is refused.

Improvement plans and board papers are often published, so they must hold
roles and aggregate figures only. :func:`find_personal_data` names the *kind*
of data found (never the text itself, so errors and logs do not repeat it).
Pure functions: no storage, no rendering.
"""

from __future__ import annotations

import re
from functools import cache

NHS_NUMBER = "an NHS number"
DATE_OF_BIRTH = "a date of birth"
POSTCODE = "a UK postcode"
CASE_REFERENCE = "a case or record reference"
STREET_ADDRESS = "a street address"
NAME_WITH_AGE = "a name or initials with an age"

# Patterns are compiled on first use (see _pattern): only commands that write
# free text need them, and compiling them cost every command start-up time.
_NHS = r"(?<![\d\w])(\d{3})[ \-]?(\d{3})[ \-]?(\d{4})(?![\d\w])"

_DATE_LIKE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"  # 01/09/2012
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 2012-09-01
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[a-z]{3,9}\.?,?\s+\d{2,4}"  # 1 Sep 2012
    r"|[a-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{2,4})"  # Sep 1, 2012
)
_DOB = r"\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?)\s*[:\-]?\s*" + _DATE_LIKE

# The shape of a full UK postcode, outward code then inward code.
_POSTCODE = r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b"

# Case-management references: a record-system or case word, then an
# identifier with at least four digits (Mosaic, Liquidlogic/LCS, Eclipse...).
_CASE_REF = (
    r"\b(?:case|client|child(?:'s)?|person|family|record|subject|mosaic|lcs|liquid\s?logic|eclipse"
    r"|carefirst|paris|swift|frameworki|framework-i)"
    r"\s*(?:id|no\.?|number|ref(?:erence)?|#)?\s*[:#.\-]?\s*[A-Z]{0,4}[\-/]?\d{4,}\b"
    r"|\bID\s*[:#]\s*[A-Z]{0,4}\d{5,}\b"
)


# A street address: a house number, one to three capitalised name words, then a street
# word ("12 High Street", "4a Mill Lane", "7 St John's Rd", "12 HIGH STREET"). Case
# matters: capitals are what tell "12 High Street" from "12 weeks in place". Not matched:
# a number that counts or labels something ("12 Week Recruitment Drive", "3 Family Court
# hearings", "Phase 2 Green Lane pilot").
_STREET_WORDS = (
    "Street", "Road", "Avenue", "Close", "Lane", "Drive", "Way", "Court", "Crescent", "Place", "Gardens", "Grove",
    "Terrace", "Mews", "Square", "Walk", "Rise", "Parade", "Boulevard", "Croft", "Fold", "Brow", "Chase", "Meadow",
    "Meadows", "View", "Vale", "Hill", "Green", "Row", "Park",
    "St", "Rd", "Ave", "Av", "Cl", "Ln", "Dr", "Ct", "Cres", "Pl", "Gdns", "Gr", "Gro", "Terr", "Tce", "Sq", "Pde",
    "Blvd",
)  # fmt: skip
_STREET_TOKENS = frozenset(word.lower() for word in _STREET_WORDS)
_NOT_A_NAME_WORD = (
    r"(?:The|On|In|At|Of|And|Or|For|To|By|From|With|Per|Each|Every|All|Our|Their|Its|This|That|These|Those|A|An"
    r"|Weeks?|Months?|Days?|Years?|Hours?|Minutes?|Sessions?|Points?|Steps?|Times?|Percent|Cases?|Staff"
    r"|Family|Youth|Crown|County|Magistrates'?|High(?=\s+Court)|Appeal|Supreme|Coroners?'?s?|Civil|Criminal)"
)
# A project or scheme named after a building ("Close 4 Ways Court project", "the 12 Mill Lane
# pilot"): the word must follow the street word directly, in the same sentence (a full stop or
# comma between, as in "4 Ways Court. Project worker visited", still reads as an address).
_NAMED_SCHEME = r"(?!\s+(?:[A-Z][a-z]+\s+)?(?:[Pp]rojects?|[Pp]rogrammes?|[Ss]chemes?|[Pp]ilots?|[Ii]nitiatives?)\b)"
_ADDRESS = (
    r"(?<![\w£$%/.,:\-])\d{1,3}[A-Za-z]?(?:\s*[-–]\s*\d{1,3}[A-Za-z]?)?,?\s+"
    r"(?:(?!" + _NOT_A_NAME_WORD + r"\b)(?:[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?|[A-Z]{2,})\s+){1,3}"
    r"(?:" + "|".join(f"{w}|{w.upper()}" for w in _STREET_WORDS) + r")"
    r"\b(?![-’'])"
    + _NAMED_SCHEME
    + r"\.?(?!\s+(?:[A-Z][a-z]+\s+)?(?:[Hh]earings?|[Oo]rders?|[Pp]roceedings|[Tt]eams?|[Cc]ases?"
    r"|[Rr]eports?|[Mm]aps?|[Pp]lans?|[Mm]eetings?|[Ss]essions?|[Tt]raining|[Ww]ork(?:ers?)?)\b)"
)
# Words before a number that make it a label, not a house number ("Phase 2", "Year 9", "KPI 3").
_LABEL_WORDS = frozenset(
    (
        "phase", "stage", "level", "year", "tier", "step", "chapter", "section", "part", "wave", "round",
        "version", "priority", "objective", "recommendation", "rec", "action", "theme", "workstream",
        "appendix", "annex", "paragraph", "para", "page", "item", "point", "number", "no", "ref", "kpi",
        "table", "figure", "fig", "slide", "quarter", "week", "month", "day", "cohort", "group", "module",
        "session", "unit",
    )
)  # fmt: skip


# A person's initials (J.S., J. S., JS) or first name beside a single age ("aged 14",
# "age 14", "14-year-old", "14 yrs old"). Ranges and groups ("aged 16 and 17", "aged
# 14-17", "young people aged 16") are plan language, not a person, and pass.
_NOT_A_FIRST_NAME = frozenset(
    (
        "child", "children", "childs", "young", "youngster", "youngsters", "people", "person", "persons",
        "pupil", "pupils", "student", "students", "learner", "learners", "girl", "girls", "boy", "boys",
        "baby", "babies", "infant", "infants", "toddler", "toddlers", "teen", "teens", "teenager", "teenagers",
        "adolescent", "adolescents", "sibling", "siblings", "leaver", "leavers", "carer", "carers", "care",
        "parent", "parents", "mother", "mothers", "father", "fathers", "adult", "adults", "minor", "minors",
        "youth", "youths", "those", "all", "any", "each", "every", "some", "under", "over", "from", "when",
        "until", "before", "after", "by", "at", "of", "to", "aged", "age", "who", "whose", "the", "and", "or",
        "for", "with", "in", "on", "is", "are", "was", "were", "average", "mean", "median", "minimum",
        "maximum", "statutory", "compulsory", "school", "leaving", "retirement", "pension", "voting", "state",
        "legal", "entry", "those", "cohort", "cohorts", "group", "groups", "claimants", "residents",
        "applicants", "survivors", "victims", "offenders",
    )
)  # fmt: skip
_INITIALS = r"(?<![\w.])(?:[A-Z]\.\s?[A-Z]\.?(?:\s?[A-Z]\.?)?|[A-Z]{2})(?![\w])"
_FIRST_NAME = r"(?<![\w'’.\-])[A-Z][a-z]{1,14}(?![\w'’\-])"
_ONE_AGE = r"(?!\s*(?:[-–/+&%]|(?i:to|and|or|plus)\b|\d))"
_AGE_AFTER = (
    r"(?:(?i:aged?)\s*:?\s*\d{1,2}(?!\d)" + _ONE_AGE
    + r"|\d{1,2}\s*-?\s*(?i:years?|yrs?)\s*-?\s*(?i:old)(?!s)\b|\d{1,2}\s*(?i:y/o|yo)\b)"
)  # fmt: skip
_AGE_BEFORE = r"\d{1,2}\s*-?\s*(?i:years?|yrs?)\s*-?\s*(?i:old)(?!s)\b"
_LINK = r"\s*[,(]?\s*(?:(?:who\s+is|is|was|now)\s+)?(?:an?\s+)?"
_SUBJECT = _INITIALS + "|" + _FIRST_NAME
_NAME_AGE = (
    "(?P<subject>" + _SUBJECT + ")" + _LINK + _AGE_AFTER
    + "|" + _AGE_BEFORE + r"\s*(?:boy|girl|child|young\s+person|male|female)?\s*[,(]?\s*(?:called\s+|named\s+)?"
    + "(?P<after>" + _SUBJECT + ")"
)  # fmt: skip
_COMMON_ACRONYMS = frozenset(
    (
        "CP", "CL", "HP", "QA", "SW", "PA", "YP", "UK", "LA", "EH", "MH", "DA", "DV", "SG", "FS", "CS", "EY",
        "KS", "SN", "PE", "RE", "IT", "AI", "HR", "GP", "OT", "SL", "NQ", "AD", "DC", "HM",
    )
)  # fmt: skip


@cache
def _pattern(source: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(source, flags)


# Words without which a pattern cannot match: checked first, so the patterns
# (a few milliseconds each to compile) are compiled only when they might match.
_CASE_WORDS = (
    "case", "client", "child", "person", "family", "record", "subject", "mosaic", "lcs", "liquid",
    "eclipse", "carefirst", "paris", "swift", "framework", "id",
)  # fmt: skip


def is_valid_nhs_number(digits: str) -> bool:
    """True when ten digits pass the NHS modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def find_personal_data(text: str) -> list[str]:
    """The kinds of personal data that ``text`` appears to hold, in a fixed order."""
    found: list[str] = []
    digits = sum(ch.isdigit() for ch in text)
    if not digits:
        return found  # every kind below includes digits
    low = text.lower()
    if digits >= 10:
        for m in _pattern(_NHS, 0).finditer(text):
            if is_valid_nhs_number(m[1] + m[2] + m[3]):
                found.append(NHS_NUMBER)
                break
    squeezed = low.replace(".", "").replace(" ", "")
    if ("birth" in low or "born" in low or "dob" in squeezed) and _pattern(_DOB).search(text):
        found.append(DATE_OF_BIRTH)
    if _pattern(_POSTCODE).search(text):
        found.append(POSTCODE)
    if any(word in low for word in _CASE_WORDS) and _pattern(_CASE_REF).search(text):
        found.append(CASE_REFERENCE)
    tokens = set(low.replace(".", " ").replace(",", " ").split())
    if not tokens.isdisjoint(_STREET_TOKENS) and _has_address(text):
        found.append(STREET_ADDRESS)
    if ("age" in low or "year" in low or "yr" in low or "yo" in low or "y/o" in low) and _has_name_with_age(text):
        found.append(NAME_WITH_AGE)
    return found


def _has_address(text: str) -> bool:
    for m in _pattern(_ADDRESS, 0).finditer(text):
        before = text[: m.start()].split()
        if before and before[-1].lower().strip(".:#") in _LABEL_WORDS:
            continue
        return True
    return False


def _has_name_with_age(text: str) -> bool:
    for m in _pattern(_NAME_AGE, 0).finditer(text):
        subject = m["subject"] or m["after"]
        if subject.lower() in _NOT_A_FIRST_NAME or subject in _COMMON_ACRONYMS:
            continue
        return True
    return False


def describe(kinds: list[str]) -> str:
    """``an NHS number and a UK postcode``."""
    if len(kinds) == 1:
        return kinds[0]
    return ", ".join(kinds[:-1]) + " and " + kinds[-1]
