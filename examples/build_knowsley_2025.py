"""Build the example plan: a fictional improvement plan modelled on Knowsley's 2025 position.

Real: the January 2025 ILACS judgements and the ten recommendations (verbatim,
Crown copyright, Open Government Licence), the 2017 re-inspection outcome and
the first monitoring visit's month and themes. Everything else (actions, owners,
people's names, dates, progress, notes, evidence) is invented for illustration
and does not describe the council's real plan. There is no data about children.

The plan is built through the tracker's own service layer, one transaction per
step, each at the moment it happened, so the progress log and audit history
read like a real year of work. Run it with:

    python examples/build_knowsley_2025.py examples/knowsley-2025/plan.json

It refuses to overwrite an existing store; pass --replace to rebuild.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from knowsley_tracker.dates import Clock
from knowsley_tracker.models import EvidenceKind, Rag, Status
from knowsley_tracker.service import actions, boards, governance, kpis, plan, settings, visits
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store, remove_store

T = TypeVar("T")
AS_OF = date(2025, 11, 30)
AUTHORITY = "Knowsley Metropolitan Borough Council"
BUILDER = "Improvement Programme Manager"


@dataclass
class Step:
    """Something that happened to an action: a note, and maybe a new progress or status."""

    on: str
    note: str
    progress: int | None = None
    status: str | None = None


@dataclass
class Act:
    title: str
    owner: str
    due: str
    success: str = ""
    steps: list[Step] = field(default_factory=list)
    evidence: list[tuple[str, str, str]] = field(default_factory=list)  # (date, title, kind)
    new_due: tuple[str, str, str] | None = None  # (on, new due, reason)
    rag: tuple[str, str, str] | None = None  # (on, rag, reason)


@dataclass
class Rec:
    ref: str
    focus: str
    summary: str
    text: str
    actions: list[Act]


# fmt: off
FOCUS_AREAS = [
    ("LEAD", "Leadership, management oversight and supervision", "Director of Children's Services"),
    ("HP", "Help and protection: risk, assessment and planning", "Assistant Director, Children's Social Care"),
    ("DIS", "Children with disabilities", "Head of Service, Disabled Children"),
    ("VULN", "Young carers and homeless 16 and 17 year olds", "Head of Service, Early Help"),
    ("CIC", "Children in care: visiting, direct work and life-story work", "Head of Service, Children in Care"),
    ("CL", "The offer to care-experienced young people (to 25)", "Head of Service, Care Leavers"),
    ("QA", "Quality assurance, case auditing and performance", "Head of Quality Assurance"),
    ("WF", "Workforce stability and caseloads", "Head of Workforce Development"),
]

OWNERS = [
    ("Director of Children's Services", "Morgan Hale"),
    ("Assistant Director, Children's Social Care", "Priya Shah"),
    ("Principal Social Worker", "Alex Morgan"),
    ("Head of Service, Disabled Children", "Sam Carter"),
    ("Head of Service, Early Help", "Chris Doyle"),
    ("Head of Service, Children in Care", "Rana Patel"),
    ("Head of Service, Care Leavers", ""),
    ("Head of Quality Assurance", "Jordan Lee"),
    ("Head of Workforce Development", "Taylor Quinn"),
    ("Performance and Intelligence Manager", "Dee Walsh"),
    ("Domestic Abuse Partnership Manager", ""),
]

PLAN = [
    Rec("1", "LEAD", "Practice leadership to professional standards",
        "The leadership capacity of social work practice which meets professional and practice standards, "
        "to drive the quality of social work interventions with children.",
        [
            Act("Appoint a permanent senior leadership team and reduce interim posts",
                "Director of Children's Services",
                "30/06/2025", "No interim posts at head of service level or above",
                [Step("14/03/2025", "Assistant director and two heads of service recruited", 60),
                 Step("20/06/2025", "All senior posts filled permanently", 100, "complete")],
                [("20/06/2025", "Senior leadership structure chart, June 2025", "document")]),
            Act("Relaunch the practice model with written practice standards and briefings for all staff",
                "Principal Social Worker", "30/09/2025", "Practice standards visible in audited cases",
                [Step("02/05/2025", "Practice standards drafted with frontline staff", 40),
                 Step("26/09/2025", "Standards published; 92% of staff attended a briefing", 100, "complete")],
                [("26/09/2025", "Practice standards, version 1", "policy")]),
            Act("Run a leadership programme for team managers on reflective supervision and risk decisions",
                "Head of Workforce Development", "31/03/2026", "All team managers complete the programme",
                [Step("06/10/2025", "First cohort of 14 managers started", 35)]),
        ]),
    Rec("2", "HP", "Identifying and responding to risk",
        "The identification of, and response to, risk by social workers in relation to children in need and "
        "children subject to child protection plans.",
        [
            Act("Introduce a risk assessment framework and train every social worker in it",
                "Assistant Director, Children's Social Care", "31/07/2025", "Risk analysis rated good in 70% of audits",
                [Step("30/04/2025", "Framework agreed with partners", 50),
                 Step("25/07/2025", "Training delivered to all teams", 100, "complete")],
                [("25/07/2025", "Risk framework training attendance record", "training")]),
            Act("Management review of all child protection plans open longer than 12 months",
                "Assistant Director, Children's Social Care", "31/10/2025", "Every long plan has a recorded review",
                [Step("15/08/2025", "Reviews under way in two of four teams", 45),
                 Step("28/10/2025", "Final team delayed by staff absence", 70)]),
            Act("Weekly multi-agency risk meeting for children in need at the front door",
                "Assistant Director, Children's Social Care", "28/02/2025",
                steps=[Step("20/02/2025", "Meeting running weekly with police and health", 100, "complete")]),
        ]),
    Rec("3", "DIS", "Disabled children: practice and oversight",
        "The quality of social work practice and management oversight for disabled children.",
        [
            Act("Review every open disabled children's case and record a risk rating",
                "Head of Service, Disabled Children", "31/03/2025", "All open cases reviewed and rated",
                [Step("14/03/2025", "All open cases reviewed", 100, "complete")],
                [("31/03/2025", "Case review summary (aggregate figures only)", "audit")]),
            Act("Write and agree a plan for the disabled children's service", "Head of Service, Disabled Children",
                "30/09/2025", "Plan agreed by the improvement board",
                [Step("10/06/2025", "Draft plan shared with parent carer forum", 50),
                 Step("12/09/2025", "Waiting for health partners to agree joint funding", 75, "blocked")],
                new_due=("01/09/2025", "31/10/2025", "Joint funding decision moved to October health board")),
            Act("Monthly management oversight audit of disabled children's cases", "Head of Quality Assurance",
                "31/12/2025", "Oversight rated good in 80% of audits",
                [Step("05/11/2025", "Three monthly audits completed", 60)],
                [("05/11/2025", "Oversight audit summary, October 2025 (aggregate figures only)", "audit")]),
            Act("Joint transition protocol with adult social care for young people aged 14 and over",
                "Head of Service, Disabled Children", "31/01/2026",
                steps=[Step("20/10/2025", "Protocol drafted", 30)]),
        ]),
    Rec("4", "HP", "Assessments, plans and planning",
        "The quality of social work practice, specifically assessments, plans and planning.",
        [
            Act("New assessment and plan templates with SMART outcomes", "Principal Social Worker", "31/05/2025",
                steps=[Step("29/05/2025", "Templates live in the case recording system", 100, "complete")],
                evidence=[("29/05/2025", "Assessment template guidance", "policy")]),
            Act("Practice workshops on writing plans with families", "Principal Social Worker", "30/11/2025",
                steps=[Step("18/09/2025", "Four of six workshops held", 65)]),
            Act("Monthly dip sample of plans by team managers", "Head of Quality Assurance", "31/12/2025",
                steps=[Step("31/10/2025", "Dip sampling in place in all teams", 50)]),
        ]),
    Rec("5", "HP", "Domestic abuse and neglect",
        "The social work response to domestic abuse and neglect.",
        [
            Act("Refresh the neglect strategy and assessment tool with partners",
                "Assistant Director, Children's Social Care",
                "31/08/2025", "Neglect tool used in all relevant assessments",
                [Step("15/07/2025", "Strategy agreed by the safeguarding partnership", 80)],
                rag=("01/11/2025", "red", "Partner sign-off of the tool missed twice")),
            Act("Domestic abuse champions in every social work team", "Domestic Abuse Partnership Manager",
                "31/10/2025",
                steps=[Step("30/09/2025", "Champions named in all teams", 100, "complete")]),
            Act("Joint audit with police of domestic abuse notifications", "Head of Quality Assurance", "31/01/2026"),
        ]),
    Rec("6", "VULN", "Young carers and homeless 16 and 17 year olds",
        "The quality of help and support for children with vulnerabilities, specifically young carers and children "
        "aged 16 and 17 years who present as homeless.",
        [
            Act("Clear the young carers assessment waiting list", "Head of Service, Early Help", "31/03/2025",
                "No young carer waits more than 4 weeks",
                [Step("28/03/2025", "Waiting list cleared", 100, "complete")],
                [("31/03/2025", "Young carers waiting times report", "data")]),
            Act("Joint housing and children's services protocol for 16 and 17 year olds", "Head of Service, Early Help",
                "30/06/2025",
                steps=[Step("26/06/2025", "Protocol signed by housing and children's services", 100, "complete")]),
            Act("Audit of joint assessments for homeless 16 and 17 year olds", "Head of Quality Assurance",
                "15/12/2025"),
        ]),
    Rec("7", "CIC", "Visiting, direct work and life-story work",
        "The quality of visiting and direct work with children and young people, including life-story work.",
        [
            Act("Life-story work training for all children in care social workers", "Head of Service, Children in Care",
                "31/12/2025", "Life-story work started for 75% of children where planned",
                [Step("17/09/2025", "Two training cohorts complete", 50)]),
            Act("Visiting standard with timeliness reported weekly", "Head of Service, Children in Care", "30/09/2025",
                steps=[Step("30/09/2025", "Weekly report live for all teams", 100, "complete")],
                evidence=[("30/09/2025", "Weekly visiting timeliness report, first issue", "data")]),
            Act("Direct work toolkit for every team", "Principal Social Worker", "31/03/2026"),
        ]),
    Rec("8", "CL", "Support for care-experienced young people to 25",
        "The quality of support, advice and guidance for care-experienced young people, including those with "
        "additional vulnerabilities, to ensure that this is timely, consistent and responsive to levels of need, "
        "up to the age of 25.",
        [
            Act("Contact every care-experienced young person aged 21 to 25 whose case was closed and offer support",
                "Head of Service, Care Leavers", "31/03/2025",
                steps=[Step("31/03/2025", "All contacted; take-up reported in aggregate only", 100, "complete")]),
            Act("Pathway plan quality standard, co-produced with young people", "Head of Service, Care Leavers",
                "31/03/2026",
                steps=[Step("02/10/2025", "New template designed with the care-experienced forum", 40)]),
            Act("Ring-fenced apprenticeships and an education and employment adviser",
                "Director of Children's Services",
                "30/09/2026", "Fewer than 35% of 19 to 21 year olds not in education, employment or training",
                [Step("14/10/2025", "Ten apprenticeships agreed; adviser in post", 30)]),
            Act("Enhanced offer for young people in custody and young parents", "Head of Service, Care Leavers",
                "31/12/2025",
                steps=[Step("10/11/2025", "Visiting standard agreed; hardship fund policy updated", 70)]),
        ]),
    Rec("9", "WF", "Personal adviser caseloads",
        "The caseloads of personal advisers (PAs), to enable them to provide timely advice, support and guidance "
        "to care-experienced young people.",
        [
            Act("Recruit four more personal advisers", "Head of Service, Care Leavers", "30/06/2025",
                steps=[Step("15/05/2025", "Two advisers appointed", 50),
                       Step("08/08/2025", "Third adviser appointed; fourth post re-advertised", 75)],
                new_due=("01/07/2025", "31/10/2025", "First recruitment round did not fill all posts")),
            Act("Agree a caseload cap for personal advisers", "Head of Service, Care Leavers", "31/05/2025",
                steps=[Step("21/05/2025", "Cap of 25 agreed by the corporate parenting board", 100, "complete")],
                evidence=[("21/05/2025", "Corporate parenting board minutes, May 2025", "minutes")]),
            Act("Monthly caseload report to the improvement board", "Performance and Intelligence Manager",
                "31/07/2025",
                steps=[Step("25/07/2025", "Report included in the board pack from July", 100, "complete")],
                evidence=[("25/07/2025", "Board pack extract: personal adviser caseloads", "data")]),
        ]),
    Rec("10", "LEAD", "Supervision and management oversight",
        "The quality of supervision and management oversight of social workers and PAs, so that children and "
        "young people receive a timely and consistent service that is responsive to their needs.",
        [
            Act("New supervision policy and recording template", "Principal Social Worker", "30/04/2025",
                steps=[Step("25/04/2025", "Policy and template live", 100, "complete")],
                evidence=[("25/04/2025", "Supervision policy 2025", "policy")]),
            Act("Quarterly audit of supervision quality", "Head of Quality Assurance", "31/12/2025",
                "Supervision rated good in 75% of audits",
                [Step("08/10/2025", "Second quarterly audit complete", 50)]),
            Act("Supervision timeliness in the weekly performance report", "Performance and Intelligence Manager",
                "31/08/2025",
                steps=[Step("29/08/2025", "Measure added; first month at 81%", 100, "complete")]),
        ]),
    Rec("", "QA", "Audit with a clear line of sight to practice",
        "Local priority from the self-evaluation: make case auditing give leaders an accurate line of sight to "
        "the quality of practice, and base the self-evaluation on it.",
        [
            Act("Moderate a sample of completed audits each month", "Head of Quality Assurance", "31/10/2025",
                steps=[Step("30/06/2025", "Moderation panel meeting monthly", 60)]),
            Act("Rewrite the self-evaluation using audit findings and performance data",
                "Performance and Intelligence Manager", "31/01/2026"),
        ]),
    Rec("", "WF", "A stable, permanent workforce",
        "Local priority: reduce reliance on agency social workers and keep caseloads manageable.",
        [
            Act("Market supplement and recruitment campaign for experienced social workers",
                "Head of Workforce Development", "31/08/2025",
                steps=[Step("30/07/2025", "Campaign launched; 9 offers made", 60)]),
            Act("Join the regional pledge on agency social worker pay", "Head of Workforce Development", "30/09/2025",
                steps=[Step("15/09/2025", "Superseded by the regional memorandum of understanding", None, "dropped")]),
            Act("Newly qualified social worker academy with protected caseloads", "Head of Workforce Development",
                "31/01/2026",
                steps=[Step("01/09/2025", "First 12 newly qualified workers started", 40)]),
        ]),
]

VISITS = [
    # (date, status, themes, outcome)
    ("16/09/2025", "done", ["HP", "VULN"], "First monitoring visit: early help, assessments, referrals, section 47 "
     "enquiries and the out-of-hours service. Letter received by the council; not published by Ofsted."),
    ("10/02/2026", "expected", ["DIS", "LEAD"], ""),
    ("16/06/2026", "expected", ["CL", "WF"], ""),
]

# KPIs: (key, name, unit, lower is better, target, focus, recs, frequency, values oldest first).
# Monthly values run Jan to Oct 2025; quarterly ones Q1 to Q3. The young carers
# count falls below 5 in the summer, so reports show it as "c" (small numbers).
KPIS = [
    ("HP-01", "Child and family assessments completed within 45 working days", "%", False, 85, "HP", ["R4"], "m",
     [68, 70, 71, 73, 74, 76, 77, 79, 80, 81]),
    ("HP-02", "Child protection visits within the local timescale", "%", False, 95, "HP", ["R2"], "m",
     [79, 80, 82, 83, 85, 86, 88, 88, 89, 90]),
    ("HP-03", "Re-referrals within 12 months", "%", True, 18, "HP", ["R2"], "m",
     [24, 24, 23, 23, 22, 22, 22, 21, 22, 21]),
    ("DIS-01", "Open disabled children's cases with an up-to-date assessment and plan", "%", False, 95, "DIS",
     ["R3"], "m", [55, 58, 63, 67, 70, 74, 77, 80, 82, 84]),
    ("VULN-01", "Young carers waiting more than 4 weeks for an assessment", "count", True, 0, "VULN", ["R6"], "m",
     [12, 9, 7, 4, 3, 2, 0, 0, 0, 0]),
    ("CIC-02", "Children in care with life-story work started, where planned", "%", False, 75, "CIC", ["R7"], "q",
     [15, 22, 32]),
    ("CL-02", "Care leavers aged 19 to 21 in suitable accommodation", "%", False, 92, "CL", ["R8"], "q",
     [88, 89, 90]),
    ("CL-04", "Average personal adviser caseload", "young people per PA", True, 20, "WF", ["R9"], "m",
     [32, 31, 30, 29, 28, 27, 26, 25, 25, 24]),
    ("QA-01", "Case-file audits graded good or better after moderation", "%", False, 60, "QA", ["R11"], "m",
     [18, 20, 23, 25, 28, 30, 31, 33, 35, 37]),
    ("WF-04", "Social workers and PAs supervised within the policy timescale", "%", False, 95, "LEAD", ["R10"], "m",
     [58, 61, 65, 70, 74, 79, 81, 83, 85, 86]),
]

# Improvement board meetings, six-weekly (illustrative dates); the last two are still to come.
BOARDS = [
    ("12/03/2025", "Inaugural meeting of the improvement board"),
    ("23/04/2025", "Draft action plan agreed for submission to Ofsted"),
    ("04/06/2025", ""),
    ("09/07/2025", ""),
    ("03/09/2025", "Preparation for the first monitoring visit"),
    ("15/10/2025", "First monitoring visit feedback"),
    ("14/01/2026", "Planned"),
    ("25/02/2026", "Planned"),
]

# fmt: on


def _moment(day: str, hour: int = 10) -> Clock:
    d = datetime.strptime(day, "%d/%m/%Y").date()
    return Clock.at(datetime.combine(d, time(hour, 0), tzinfo=UTC))


class Builder:
    def __init__(self, store: Store) -> None:
        self.store = store

    def at(self, day: str, by: str = BUILDER, hour: int = 10) -> Session:
        return Session(store=self.store, clock=_moment(day, hour), user=by)

    def do(
        self,
        day: str,
        what: str,
        use_case: Callable[..., T],
        *args: Any,
        by: str = BUILDER,
        hour: int = 10,
        **kwargs: Any,
    ) -> T:
        """Run one use-case as one command would: its own session, clock and transaction."""
        s = self.at(day, by, hour)
        with s.transaction(what):
            return use_case(s, *args, **kwargs)


def build(path: Path) -> None:
    store = Store.create(path, authority=AUTHORITY, now=_moment("03/02/2025").now())
    b = Builder(store)
    try:
        b.do(
            "03/02/2025",
            "inspection add",
            plan.add_inspection,
            start="01/03/2017",
            published="13/06/2017",
            judgement="requires improvement",
            title="Re-inspection under the single inspection framework",
            notes="Three of five areas judged good; the 2014 improvement notice was lifted. "
            "Area grades here are illustrative.",
            areas=["help-protection=ri", "looked-after=ri", "adoption=good", "care-leavers=good", "leadership=good"],
        )
        b.do(
            "03/02/2025",
            "inspection add",
            plan.add_inspection,
            start="31/01/2024",
            type="focused visit",
            title="Focused visit: care leavers",
        )
        b.do(
            "03/02/2025",
            "inspection add",
            plan.add_inspection,
            start="18/11/2024",
            end="29/11/2024",
            published="20/01/2025",
            judgement="inadequate",
            title="ILACS standard inspection",
            report_url="https://files.ofsted.gov.uk/v1/file/50267008",
            areas=[
                "leaders=inadequate",
                "help-protection=inadequate",
                "children-in-care=requires improvement",
                "care-leavers=inadequate",
            ],
        )
        for key, name, lead in FOCUS_AREAS:
            b.do("03/02/2025", f"focus add {key}", plan.add_focus, key, name, lead)
        for role, name in OWNERS:
            b.do("03/02/2025", "owner add", plan.add_owner, role, name)
        for rec in PLAN:
            made = b.do(
                "04/02/2025",
                "rec add",
                plan.add_recommendation,
                rec.text,
                focus=rec.focus,
                report_ref=rec.ref,
                summary=rec.summary,
            )
            for act in rec.actions:
                _build_action(b, made.ref, act)
        for day, status, themes, outcome in VISITS:
            b.do(
                day if status == "done" else "01/03/2025",
                "visit add",
                visits.add_visit,
                day,
                themes=themes,
                status=status,
                outcome=outcome,
            )
        _build_governance(b)
        _build_kpis(b)
        # Boards go in last, as of the example's date: a meeting in the past gets its
        # snapshot rebuilt from the progress log, as it would for a plan adopted late.
        for day, note in BOARDS:
            b.do(AS_OF.strftime("%d/%m/%Y"), "board add", boards.add_board, day, note, hour=17)
        _build_paper(b)
    finally:
        store.close()


def _build_governance(b: Builder) -> None:
    b.do(
        "04/02/2025",
        "intervention add",
        governance.add_intervention,
        "improvement-notice",
        issued="01/09/2014",
        lifted="31/07/2017",
        note="After the 2014 inadequate judgement; lifted after the 2017 re-inspection (dates illustrative).",
    )
    b.do(
        "04/02/2025",
        "intervention add",
        governance.add_intervention,
        "improvement-notice",
        issued="10/03/2025",
        people=["DfE improvement adviser=Robin Example", "Independent board chair=Jamie Example"],
        note="Illustrative only: whether DfE issued a notice in 2025 is not confirmed.",
    )
    b.do(
        "01/09/2025",
        "partner add",
        governance.add_partner,
        "A neighbouring council (SLIP)",
        purpose="Moderating case audits and mentoring the quality assurance team",
        start="01/09/2025",
        end="31/03/2026",
        kind="slip",
        recs=["R11"],
        focus=["QA"],
    )
    b.do(
        "06/10/2025",
        "partner add",
        governance.add_partner,
        "Independent practice consultant",
        purpose="Reflective supervision training for team managers",
        start="06/10/2025",
        end="31/03/2026",
        kind="specialist",
        recs=["R10"],
    )
    b.do("25/04/2025", "inspection edit", plan.edit_inspection, "I3", action_plan_sent="25/04/2025")


# The paper for the January board (B7), as drafted on the example's date. Invented, like the actions.
NARRATIVE = """\
The service has held its improvement since the first monitoring visit in October. Inspectors saw
**stronger management oversight** at the front door and better recording of supervision, and asked
us to go further on the timeliness of assessments.

Three things need the board's attention:

- **Assessments:** timeliness has risen for nine months in a row but is still below target, and the
  recruitment of two more team managers is behind plan.
- **Quality assurance:** audit moderation with our sector-led improvement partner has started, but the
  share of audits graded good or better is still low.
- **Workforce:** reliance on agency staff is down, and supervision within timescale is close to target.

We expect to be ready for the second monitoring visit in February, with the evidence packs for help
and protection *in draft* by the end of December.
"""
DECISIONS = [
    "Agree the revised date of 31 January 2026 for A8, the plan for the disabled children's service.",
    "Agree tolerances of 5 points for the timeliness KPIs (HP-01, HP-02, WF-04).",
    "Agree help and protection, and care leavers, as the themes of the February deep dive.",
]
# KPI tolerances and comparators; the comparator figures are illustrative, not published statistics.
TOLERANCES = {"HP-01": "5", "HP-02": "5", "WF-04": "5"}
COMPARATORS = {
    "HP-01": {"england": "82", "neighbours": "80", "regional": "79"},
    "HP-03": {"england": "22", "neighbours": "23"},
    "CL-02": {"england": "88", "regional": "86"},
}


def _build_paper(b: Builder) -> None:
    on = AS_OF.strftime("%d/%m/%Y")
    for name, value in (
        ("board.name", "Knowsley Children's Services Improvement Board"),
        ("paper.author", "Director of Children's Services"),
        ("paper.marking", "OFFICIAL"),
    ):
        b.do(on, f"config set {name}", settings.set_setting, name, value)
    for key, tolerance in TOLERANCES.items():
        b.do(on, f"kpi edit {key}", kpis.edit_kpi, key, tolerance=tolerance)
    for key, figures in COMPARATORS.items():
        b.do(on, f"kpi edit {key}", kpis.edit_kpi, key, comparators=figures, comparator_period_text="2024-25")
    b.do(on, "board edit B7", boards.edit_board, "B7", narrative=NARRATIVE, decisions=DECISIONS, hour=18)


def _build_kpis(b: Builder) -> None:
    for key, name, unit, lower, target, focus, recs, frequency, values in KPIS:
        b.do(
            "10/02/2025",
            f"kpi add {key}",
            kpis.add_kpi,
            key,
            name,
            target=str(target),
            unit=unit,
            lower_is_better=lower,
            focus=focus,
            recs=recs,
        )
        for n, value in enumerate(values):
            if frequency == "m":
                period, recorded = f"2025-{n + 1:02d}", date(2025, n + 2, 10)
            else:
                period, recorded = f"2025-Q{n + 1}", date(2025, 3 * n + 4, 10)
            b.do(
                recorded.strftime("%d/%m/%Y"),
                f"kpi record {key}",
                kpis.record_value,
                key,
                str(value),
                period=period,
                by="Performance and Intelligence Manager",
                hour=11,
            )


def _build_action(b: Builder, rec_ref: str, act: Act) -> None:
    # The use cases take typed values: read the plan's words as the CLI does.
    made = b.do(
        "05/02/2025",
        f"action add {rec_ref}",
        lambda s: actions.add_action(
            s,
            s.recommendation(rec_ref).id,
            act.title,
            due=s.parse_date(act.due),
            owner_id=s.owner(act.owner).id,
            success_measure=act.success,
        ),
    )
    ref, action_id = made.ref, made.id
    # Replay what happened to the action in date order.
    events: list[tuple[date, int, Step | tuple[str, str, str], str]] = []
    for n, step in enumerate(act.steps):
        events.append((_day(step.on), n, step, "step"))
    if act.new_due:
        events.append((_day(act.new_due[0]), -1, act.new_due, "due"))
    if act.rag:
        events.append((_day(act.rag[0]), 50, act.rag, "rag"))
    for n, evidence in enumerate(act.evidence):
        events.append((_day(evidence[0]), 100 + n, evidence, "evidence"))
    for _, _, event, kind in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(event, Step):
            b.do(
                event.on,
                f"log {ref}",
                actions.log_progress,
                action_id,
                event.note,
                progress=event.progress,
                status=Status.parse(event.status) if event.status else None,
                by=act.owner,
                hour=15,
            )
        elif kind == "due":
            on, due, reason = event
            b.do(
                on,
                f"action edit {ref}",
                lambda s, d=due, r=reason: actions.edit_action(s, action_id, due=s.parse_date(d), reason=r),
            )
        elif kind == "rag":
            on, rag, reason = event
            b.do(on, f"action edit {ref}", actions.edit_action, action_id, rag=Rag.parse(rag), reason=reason)
        else:
            on, title, evidence_kind = event
            b.do(
                on,
                f"evidence add {ref}",
                lambda s, t=title, d=on, k=evidence_kind: actions.add_evidence(
                    s, action_id, t, day=s.parse_date(d), kind=EvidenceKind.parse(k)
                ),
                by=act.owner,
                hour=16,
            )


def _day(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Knowsley 2025 example plan.")
    parser.add_argument("path", type=Path, help="where to write the store, e.g. examples/knowsley-2025/plan.json")
    parser.add_argument("--replace", action="store_true", help="rebuild over an existing store")
    args = parser.parse_args(argv)
    if args.path.exists():
        if not args.replace:
            print(f"{args.path} exists; pass --replace to rebuild it.", file=sys.stderr)
            return 1
        remove_store(args.path)
    build(args.path)
    print(f"Built the example plan at {args.path} (as of {AS_OF:%d %b %Y}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
