"""guard.py: what counts as personal data, and that it is named, never echoed."""

from __future__ import annotations

import pytest

from knowsley_tracker.guard import (
    CASE_REFERENCE,
    DATE_OF_BIRTH,
    NHS_NUMBER,
    POSTCODE,
    describe,
    find_personal_data,
    is_valid_nhs_number,
)

# 943 476 5919 is the NHS's published example of a valid number.
VALID_NHS = "9434765919"


def test_nhs_check_digit() -> None:
    assert is_valid_nhs_number(VALID_NHS)
    assert not is_valid_nhs_number("9434765918")
    assert not is_valid_nhs_number("1234567890")
    assert not is_valid_nhs_number("94347659")


@pytest.mark.parametrize("text", ["NHS 943 476 5919 seen", "ref 943-476-5919", "9434765919"])
def test_nhs_numbers_found_with_or_without_spaces(text: str) -> None:
    assert find_personal_data(text) == [NHS_NUMBER]


@pytest.mark.parametrize("text", ["Budget code 1234567890", "Phone 0151 443 3000", "Audited 9434765918 files"])
def test_ten_digits_failing_the_check_are_not_nhs_numbers(text: str) -> None:
    assert NHS_NUMBER not in find_personal_data(text)


@pytest.mark.parametrize(
    "text",
    [
        "DOB 01/02/2015",
        "d.o.b: 2015-02-01",
        "date of birth 1 Feb 2015",
        "born on 3rd March 2012",
        "Born February 3, 2012",
    ],
)
def test_dates_of_birth_in_context(text: str) -> None:
    assert find_personal_data(text) == [DATE_OF_BIRTH]


@pytest.mark.parametrize("text", ["Due 01/02/2026", "Board on 1 Feb 2026", "Newborn pathway relaunched"])
def test_plain_dates_are_fine(text: str) -> None:
    assert find_personal_data(text) == []


@pytest.mark.parametrize("text", ["Lives at L36 9YU", "postcode l369yu", "SW1A 1AA", "M1 1AE"])
def test_postcodes(text: str) -> None:
    assert find_personal_data(text) == [POSTCODE]


@pytest.mark.parametrize(
    "text", ["Case ref 123456", "Mosaic ID 4455667", "LCS-1234567 reviewed", "child's record no. CN12345", "ID: 123456"]
)
def test_case_references(text: str) -> None:
    assert find_personal_data(text) == [CASE_REFERENCE]


@pytest.mark.parametrize(
    "text",
    [
        "Audit 20 cases by March; 85% graded good",
        "A12 and R3 complete",
        "KPI-CL-01 at 93%",
        "Caseloads 16-18 per worker",
        "2025-Q2 figures published",
        "45 working days",
        "Section 47 enquiries within 15 days",
    ],
)
def test_ordinary_plan_text_passes(text: str) -> None:
    assert find_personal_data(text) == []


def test_describe() -> None:
    assert describe([NHS_NUMBER]) == "an NHS number"
    assert (
        describe([NHS_NUMBER, POSTCODE, CASE_REFERENCE])
        == "an NHS number, a UK postcode and a case or record reference"
    )
