"""Build a synthetic improvement plan of a given size, through the tracker's own service layer.

    python benchmarks/generate.py plan.json --actions 300 --updates 5000 --seed 1

Everything scales with the number of actions the way real plans do (about 25
actions per recommendation, 3 recommendations per focus area, 15 actions per
owner and per KPI, one piece of evidence for every two actions, monthly KPI
values, a board meeting every six weeks with its snapshot, monitoring visits
every five months). Progress updates are spread over the year to the "as of"
date and replayed in time order. The same seed gives the same plan.

Each simulated day's work is saved as one transaction, rather than one per
update, so a 50,000-update plan builds in minutes; the store's layout (rows
kept in plan.json, sealed segments) is the same either way.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from knowsley_tracker.dates import Clock
from knowsley_tracker.models import Action, Status
from knowsley_tracker.service import actions, boards, governance, kpis, plan, visits
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store, remove_store

T = TypeVar("T")

THEMES = [
    ("LEAD", "Leadership and management oversight"),
    ("HP", "Help and protection"),
    ("DIS", "Children with disabilities"),
    ("VULN", "Vulnerable adolescents"),
    ("CIC", "Children in care"),
    ("CL", "Care-experienced young people"),
    ("QA", "Quality assurance and audit"),
    ("WF", "Workforce and caseloads"),
    ("EH", "Early help"),
    ("FD", "Front door and MASH"),
    ("PLO", "Pre-proceedings and permanence"),
    ("EDT", "Out-of-hours service"),
]
ROLES = [
    "Director of Children's Services",
    "Assistant Director, Children's Social Care",
    "Principal Social Worker",
    "Head of Quality Assurance",
    "Head of Service, Care Leavers",
    "Head of Service, Disabled Children",
    "Head of Service, Children in Care",
    "Head of Service, Early Help",
    "Head of Workforce Development",
    "Performance and Intelligence Manager",
    "Team Manager, Assessment",
    "Team Manager, Child Protection",
    "Service Manager, Front Door",
    "Service Manager, Fostering",
    "Independent Reviewing Officer Manager",
]
VERBS = ["Audit", "Review", "Relaunch", "Train staff in", "Embed", "Publish", "Recruit for", "Monitor", "Agree"]
OBJECTS = [
    "assessment quality",
    "supervision recording",
    "pathway plans",
    "life-story work",
    "the neglect toolkit",
    "strategy meeting timeliness",
    "caseload caps",
    "return home interviews",
    "transition planning",
    "management oversight",
    "the practice model",
    "the audit moderation panel",
]
NOTES = [
    "Work under way; first findings shared with team managers",
    "Dip sample complete; themes fed into practice week",
    "Slippage because of staff absence; recovery plan agreed",
    "Partners signed off the approach at the safeguarding partnership",
    "Training sessions held for two more teams",
    "Data now in the weekly performance report",
    "Awaiting sign-off at the next improvement board",
    "Audit grades improving: more cases rated good this month",
]
KPI_NAMES = [
    ("% assessments completed within 45 working days", "%", False, 85.0),
    ("% child protection visits within timescale", "%", False, 95.0),
    ("% re-referrals within 12 months", "%", True, 18.0),
    ("% case audits graded good or better", "%", False, 60.0),
    ("Average social worker caseload", "", True, 18.0),
    ("% care leavers in suitable accommodation", "%", False, 93.0),
    ("% supervision within timescale", "%", False, 90.0),
    ("% agency social workers", "%", True, 20.0),
]


class Generator:
    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng

    def do(self, moment: datetime, what: str, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        s = Session(store=self.store, clock=Clock.at(moment), user="Benchmark Generator")
        with s.transaction(what):
            return use_case(s, *args, **kwargs)

    def batch(self, moment: datetime, what: str, work: Callable[[Session], None]) -> None:
        s = Session(store=self.store, clock=Clock.at(moment), user="Benchmark Generator")
        with s.transaction(what):
            work(s)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def generate(path: Path, *, n_actions: int, n_updates: int, seed: int, as_of: date) -> dict[str, int]:
    rng = random.Random(seed)
    start = as_of - timedelta(days=365)
    store = Store.create(path, authority="Synthetic Borough Council", now=at(start))
    g = Generator(store, rng)
    n_recs = max(5, n_actions // 25)
    n_focus = min(len(THEMES), max(4, n_recs // 3))
    n_owners = min(len(ROLES), max(5, n_actions // 15))
    n_kpis = max(4, n_actions // 15)
    counts = {"actions": n_actions, "updates": n_updates}
    try:

        def setup(s: Session) -> None:
            plan.add_inspection(
                s,
                start=(start - timedelta(days=120)).isoformat(),
                published=(start - timedelta(days=60)).isoformat(),
                judgement="inadequate",
            )
            for key, name in THEMES[:n_focus]:
                plan.add_focus(s, key, name, rng.choice(ROLES))
            for role in ROLES[:n_owners]:
                plan.add_owner(s, role)
            for n in range(n_recs):
                key = THEMES[n % n_focus][0]
                plan.add_recommendation(s, f"Improve {rng.choice(OBJECTS)} ({n + 1})", focus=key, report_ref=str(n + 1))
            governance.add_intervention(
                s,
                "improvement-notice",
                issued=(start - timedelta(days=30)).isoformat(),
                people=["Improvement adviser=Adviser One"],
            )
            for n in range(2):
                governance.add_partner(
                    s,
                    f"Partner council {n + 1}",
                    purpose="Audit moderation",
                    kind="slip",
                    start=(start + timedelta(days=60 * n)).isoformat(),
                    focus=[THEMES[n][0]],
                )

        g.batch(at(start), "setup", setup)

        def add_actions(s: Session) -> None:
            for n in range(n_actions):
                due = start + timedelta(days=rng.randint(30, 540))
                actions.add_action(
                    s,
                    n % n_recs + 1,
                    f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} ({n + 1})",
                    due=due,
                    owner_id=s.owner(ROLES[n % n_owners]).id,
                )
            for n in range(n_kpis):
                name, unit, lower, target = KPI_NAMES[n % len(KPI_NAMES)]
                kpis.add_kpi(
                    s,
                    f"KPI-{n + 1:03d}",
                    f"{name} ({n + 1})",
                    target=str(target),
                    unit=unit,
                    lower_is_better=lower,
                    focus=THEMES[n % n_focus][0],
                )

        g.batch(at(start, 11), "actions", add_actions)

        # Updates, evidence, KPI values, visits and boards, replayed day by day.
        per_day: dict[date, list[tuple[str, Any]]] = {}
        for _ in range(n_updates):
            day = start + timedelta(days=rng.randint(1, 364))
            per_day.setdefault(day, []).append(("log", rng.randint(1, n_actions)))
        for _ in range(n_actions // 2):
            day = start + timedelta(days=rng.randint(1, 364))
            per_day.setdefault(day, []).append(("evidence", rng.randint(1, n_actions)))
        month = date(start.year, start.month, 1)
        while month < as_of.replace(day=1):
            per_day.setdefault(month + timedelta(days=14), []).append(("kpi", month))
            month = (month + timedelta(days=32)).replace(day=1)
        board_days = [start + timedelta(days=42 * n) for n in range(1, 9)]
        visit_days = [start + timedelta(days=150 * n) for n in range(1, 3)]
        progress = {n: 0 for n in range(1, n_actions + 1)}

        for day in sorted(per_day):

            def work(s: Session, events: list[tuple[str, Any]] = per_day[day], day: date = day) -> None:
                for kind, subject in events:
                    if kind == "log":
                        _log(s, rng, subject, progress)
                    elif kind == "evidence":
                        actions.add_evidence(s, subject, f"Evidence {rng.randint(1, 999)}", day=day)
                    else:
                        for k in range(n_kpis):
                            target = KPI_NAMES[k % len(KPI_NAMES)][3]
                            value = max(0.0, min(100.0, target + rng.uniform(-20, 10)))
                            kpis.record_value(s, f"KPI-{k + 1:03d}", f"{value:.1f}", period=subject.strftime("%Y-%m"))

            g.batch(at(day, 15), f"day {day}", work)
        for day in visit_days:
            g.do(at(day), "visit add", visits.add_visit, day.isoformat(), status="done", themes=[THEMES[0][0]])
        g.do(at(as_of - timedelta(days=1)), "visit project", visits.project_visits, count=3)
        for day in board_days:
            if day <= as_of:
                g.do(at(as_of - timedelta(days=1), 16), "board add", boards.add_board, day.isoformat(), "Board meeting")
        counts.update(
            recommendations=n_recs,
            focus_areas=n_focus,
            owners=n_owners,
            kpis=n_kpis,
            boards=sum(1 for d in board_days if d <= as_of),
            evidence=n_actions // 2,
        )
    finally:
        store.close()
    return counts


def _log(s: Session, rng: random.Random, action_id: int, progress: dict[int, int]) -> None:
    action = s.store.get(Action, action_id)
    if not action.status.is_open:
        actions.log_progress(s, action_id, rng.choice(NOTES))
        return
    step = rng.randint(0, 15)
    new = min(100, progress[action_id] + step)
    status = None
    if new >= 100:
        status = Status.COMPLETE
    elif rng.random() < 0.02:
        status = Status.BLOCKED
    elif action.status is Status.BLOCKED:
        status = Status.IN_PROGRESS
    progress[action_id] = new
    actions.log_progress(
        s, action_id, rng.choice(NOTES), progress=new if status is not Status.COMPLETE else None, status=status
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the store to create")
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2025-11-30", help="the plan's 'today' (ISO date)")
    parser.add_argument("--replace", action="store_true", help="overwrite an existing store")
    args = parser.parse_args(argv)
    if args.path.exists():
        if not args.replace:
            print(f"{args.path} exists; pass --replace to rebuild it.", file=sys.stderr)
            return 1
        remove_store(args.path)
    args.path.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    counts = generate(
        args.path, n_actions=args.actions, n_updates=args.updates, seed=args.seed, as_of=date.fromisoformat(args.as_of)
    )
    took = time.perf_counter() - began
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    print(f"Built {args.path} in {took:.1f} s: {summary}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
