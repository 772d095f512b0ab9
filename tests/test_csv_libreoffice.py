"""A kt CSV export opened by LibreOffice Calc keeps formula-looking cells as text.

Runs scripts/check_csv_libreoffice.sh, which converts an export with
``soffice --headless --convert-to``; skipped where LibreOffice is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.needs import need_libreoffice

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_csv_libreoffice.sh"


@pytest.mark.slow
def test_libreoffice_does_not_evaluate_exported_cells() -> None:
    need_libreoffice()
    env = dict(os.environ, KT=str(Path(sys.executable).with_name("kt")), PYTHON=sys.executable)
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "PASS: LibreOffice kept every formula-looking cell of the kt export as text."
    summary = next(line for line in lines if "distinct formula-looking cells" in line)
    assert ": 0 evaluated from the kt export," in summary
    assert "0 shown with other text." in summary
    assert "Re-imported LibreOffice's CSV into a new store: 9 action titles, identical to the original." in lines
