"""The bench's 30-second smoke: tiny data, short phases, the real gunicorn and the real load
driver. It fails on errors, double bookings, overlapping slots and half-made bookings, never
on timings (CI machines are shared)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from bench.load import drop_database
from conftest import postgres_only

ROOT = Path(__file__).resolve().parent.parent.parent


@postgres_only
def test_the_bench_smoke_runs_clean(tmp_path):
    db = settings.DATABASES["default"]
    # Its own databases, named for this process: two test runs on one machine must not share them.
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/tidbok_bench_smoke_{os.getpid()}"
    results = tmp_path / "results.json"
    try:
        run = subprocess.run(
            [sys.executable, "-m", "bench.run", "--smoke", "--url", url, "--results", str(results)],
            cwd=ROOT, capture_output=True, text=True, timeout=240,
        )
    finally:
        drop_database(url)
        drop_database(f"{url}_small")

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "double bookings 0; overlapping slots 0" in run.stdout
    assert results.exists()
    if shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists():  # CI installs it
        assert "Through PgBouncer against direct, in the same run: calendar p50" in run.stdout
    # docs/capacity.md's arithmetic reads what the run wrote.
    doc = tmp_path / "capacity.md"
    doc.write_text((ROOT / "docs" / "capacity.md").read_text())
    capacity = subprocess.run([sys.executable, "-m", "bench.capacity", "--results", str(results), "--doc", str(doc)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert capacity.returncode == 0, capacity.stderr
    assert "| Sweden |" in capacity.stdout and "bookings/s" in capacity.stdout
    # The tables replaced between their markers, the text around them kept.
    written = doc.read_text()
    assert capacity.stdout.split("\n\n")[0] in written and "## The next step: partitioning by therapist" in written
