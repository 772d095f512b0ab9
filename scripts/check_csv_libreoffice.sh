#!/usr/bin/env bash
# Open a `kt export --format csv` file in LibreOffice Calc (headless) and show
# that formula-looking cells stay text: nothing is evaluated.
#
# It builds a throwaway plan whose text starts with =, +, -, @ (including a
# HYPERLINK and a DDE payload), exports it, converts the CSV to ODS and back to
# CSV with `soffice --headless --convert-to`, and reads each cell's type from
# the ODS. A control file holding the same text WITHOUT kt's neutralising
# apostrophes goes through the same conversion, to show that LibreOffice would
# otherwise run those cells as formulas. Finally the CSV that LibreOffice wrote
# back is imported into a new store, to show the text survives the round trip.
#
# Usage: scripts/check_csv_libreoffice.sh
# Needs: soffice (apt-get install -y libreoffice-calc-nogui); kt from .venv,
# or set KT and PYTHON. Exit 0 when every cell stayed text, 1 when a cell was
# evaluated or changed, 77 when soffice is missing (the test-suite "skip" code).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
KT=${KT:-$root/.venv/bin/kt}
PYTHON=${PYTHON:-$root/.venv/bin/python}
if ! command -v soffice >/dev/null 2>&1; then
    echo "soffice not found: install LibreOffice Calc (apt-get install -y libreoffice-calc-nogui)." >&2
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export KNOWSLEY_TRACKER_DB="$work/plan.json" KNOWSLEY_TRACKER_USER="LibreOffice check"
# Comma-separated, double quotes, UTF-8 (76), data from line 1: what kt writes.
csv_filter="44,34,76,1"

"$KT" init --authority "Example Council" >/dev/null
"$KT" focus add QA "Audit and quality assurance" >/dev/null
"$KT" owner add "@Head of Service, Quality Assurance" >/dev/null
"$KT" rec add "=1+1 looks like a formula" --focus QA >/dev/null
titles=(
    "=1+1"
    "=SUM(2,3)"
    "+7+8"
    "-2+10"
    "@SUM(4,5)"
    '=HYPERLINK("http://example.org","click me")'
    "=cmd|' /C calc'!A0"
    "'=already quoted"
    "Plain text, with a comma and \"quotes\""
)
for title in "${titles[@]}"; do
    "$KT" action add --due 31/03/2026 --owner O1 -- R1 "$title" >/dev/null
done
"$KT" log A1 "=2*21 is the answer" >/dev/null

"$KT" export --format csv -o "$work/kt-export.csv" >/dev/null
# The control: the same cells with kt's neutralising apostrophe removed.
"$PYTHON" - "$work/kt-export.csv" "$work/raw-control.csv" <<'PY'
import csv, sys
from knowsley_tracker.service.plan_sheet import restore
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    rows = [[restore(c) for c in row] for row in csv.reader(f)]
with open(sys.argv[2], "w", encoding="utf-8-sig", newline="") as f:
    csv.writer(f, lineterminator="\r\n").writerows(rows)
PY

soffice_run() {
    soffice --headless "-env:UserInstallation=file://$work/lo-profile" "$@" >"$work/soffice.log" 2>&1 || {
        cat "$work/soffice.log" >&2
        exit 1
    }
}
mkdir -p "$work/ods" "$work/back"
soffice_run --infilter="CSV:$csv_filter" --convert-to ods --outdir "$work/ods" "$work/kt-export.csv" "$work/raw-control.csv"
soffice_run --convert-to "csv:Text - txt - csv (StarCalc):$csv_filter" --outdir "$work/back" "$work/ods/kt-export.ods"

echo "$(soffice --version | head -n 1)"
echo "kt export: $work/kt-export.csv -> ODS -> CSV (filter CSV:$csv_filter)"
echo
"$PYTHON" - "$work" <<'PY'
import csv, sys, zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

work = Path(sys.argv[1])
NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
T = "{%s}" % NS["table"]
O = "{%s}" % NS["office"]


def cells(ods: Path) -> list[list[tuple[str, str, str]]]:
    """Each cell as (type, formula, shown text), repeated cells expanded."""
    root = ET.fromstring(zipfile.ZipFile(ods).read("content.xml"))
    out = []
    for row in root.iter(T + "table-row"):
        line = []
        for cell in row.findall(T + "table-cell"):
            repeat = int(cell.get(T + "number-columns-repeated", "1"))
            text = "\n".join("".join(p.itertext()) for p in cell.findall("text:p", NS))
            line += [(cell.get(O + "value-type", ""), cell.get(T + "formula", ""), text)] * min(repeat, 20)
        out.append(line)
    return out


def describe(cell: tuple[str, str, str]) -> str:
    kind, formula, text = cell
    if formula:
        return f"EVALUATED {formula} -> {text}"
    return f"{kind or 'empty'} {text!r}"


with open(work / "kt-export.csv", encoding="utf-8-sig", newline="") as f:
    exported = list(csv.reader(f))
header = exported[0]
kt, raw = cells(work / "ods" / "kt-export.ods"), cells(work / "ods" / "raw-control.ods")
columns = [header.index(c) for c in ("recommendation", "owner", "action", "latest_update")]
checked = evaluated_kt = evaluated_raw = changed = 0
seen = set()
print(f"{'column':<15} {'cell in kt export':<34} {'kt export in Calc':<42} raw control in Calc")
for r, row in enumerate(exported[1:], start=1):
    for c in columns:
        value = row[c]
        if not value.startswith("'") or (c, value) in seen:
            continue
        seen.add((c, value))
        checked += 1
        kt_cell, raw_cell = kt[r][c], raw[r][c]
        evaluated_kt += bool(kt_cell[1])
        evaluated_raw += bool(raw_cell[1])
        changed += kt_cell[2] not in (value, value[1:])
        print(f"{header[c]:<15} {value!r:<34} {describe(kt_cell):<42} {describe(raw_cell)}")

with open(work / "back" / "kt-export.csv", encoding="utf-8", newline="") as f:
    back = list(csv.reader(f))
print()
print("CSV written back by LibreOffice (action column):")
for row in back[1:]:
    print("   ", repr(row[header.index("action")]))
print()
print(f"{checked} distinct formula-looking cells: {evaluated_kt} evaluated from the kt export, "
      f"{evaluated_raw} evaluated from the raw control; {changed} shown with other text.")
(work / "verdict").write_text("ok" if evaluated_kt == 0 and changed == 0 and evaluated_raw > 0 else "fail")
PY

# Back into a new store: the text that came out of LibreOffice is the text that went in.
export KNOWSLEY_TRACKER_DB="$work/again.json"
"$KT" init --authority "Example Council" >/dev/null
"$KT" import "$work/back/kt-export.csv" >/dev/null
KNOWSLEY_TRACKER_DB="$work/plan.json" "$KT" action list --json >"$work/before.json"
"$KT" action list --json >"$work/after.json"
"$PYTHON" - "$work" <<'PY'
import json, sys
from pathlib import Path
work = Path(sys.argv[1])
before = [a["title"] for a in json.loads((work / "before.json").read_text())]
after = [a["title"] for a in json.loads((work / "after.json").read_text())]
same = before == after
print(f"Re-imported LibreOffice's CSV into a new store: {len(after)} action titles, "
      f"{'identical to the original' if same else 'DIFFERENT from the original'}.")
if not same:
    for b, a in zip(before, after):
        if a != b:
            print(f"    {b!r} came back as {a!r}")
    (work / "verdict").write_text("fail")
PY

if [ "$(cat "$work/verdict")" = ok ]; then
    echo "PASS: LibreOffice kept every formula-looking cell of the kt export as text."
else
    echo "FAIL: see above."
    exit 1
fi
