"""Mozilla's ical.js, the iCalendar parser of Thunderbird, as an independent reader of what
Tidbok sends (RECIPES.md: testing against code we did not write catches what our own parser
forgives). `read_ical(text)` runs domain/tests/ical/read.mjs in node and answers its JSON."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node")
ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = Path(__file__).resolve().parent / "ical" / "read.mjs"


def read_ical(text: str) -> dict:
    """What ical.js reads in `text`; a parse error fails the test with ical.js's message."""
    if NODE is None:
        pytest.skip("node is not installed: these tests read the invitations with Mozilla's ical.js (npm)")
    if not (ROOT / "node_modules" / "ical.js").exists():
        pytest.skip("npm package ical.js is missing: run `npm ci` (make install does)")
    # TZ=UTC: a floating time (one without a zone) would otherwise be read in this machine's zone.
    done = subprocess.run(
        [NODE, str(SCRIPT)], input=text.encode(), capture_output=True, timeout=30, cwd=ROOT, env={"TZ": "UTC"}
    )
    assert done.returncode == 0, f"ical.js refused the calendar: {done.stderr.decode()}\n{text}"
    return json.loads(done.stdout)
