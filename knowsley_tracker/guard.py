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
    return found


def describe(kinds: list[str]) -> str:
    """``an NHS number and a UK postcode``."""
    if len(kinds) == 1:
        return kinds[0]
    return ", ".join(kinds[:-1]) + " and " + kinds[-1]
