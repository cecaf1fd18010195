"""Where a gunicorn worker's time goes under the bench's load: py-spy samples every worker
(only while Python holds the GIL, i.e. on the CPU) while one endpoint is driven as in
`make bench`, and prints the functions by share of samples, inclusive and self.

    .venv/bin/python -m bench.pyspy calendar     # or: floor, open_slots, listing
"""

import argparse
import collections
import re
import subprocess
import tempfile
import time
from pathlib import Path

from .load import BIG, loaded_base
from .run import (
    DEFAULT_URL,
    ROOT,
    Server,
    calendar_request,
    default_workers,
    drive,
    health_request,
    listing_request,
    mark_tokens_used,
    open_slots_request,
)


def summary(raw: Path, top: int) -> str:
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [re.sub(r":\d+\)", ")", f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    out = [f"{total} samples", "inclusive:"]
    out += [f"{v / total * 100:5.1f}%  {k[:140]}" for k, v in inclusive.most_common(top)]
    out += ["self:"] + [f"{v / total * 100:5.1f}%  {k[:140]}" for k, v in own.most_common(top // 2)]
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("endpoint", choices=["floor", "calendar", "open_slots", "listing"])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--top", type=int, default=50)
    args = parser.parse_args(argv)
    base = loaded_base(args.url)
    make = {"floor": health_request, "calendar": calendar_request(BIG, base),
            "open_slots": open_slots_request(BIG), "listing": listing_request}[args.endpoint]
    mark_tokens_used(args.url)
    workdir = Path(tempfile.mkdtemp(prefix="tidbok-pyspy-"))
    raw = workdir / "samples.txt"
    server = Server(args.url, default_workers(), workdir)
    server.start()
    try:
        drive(server.port, make, 2, 2)
        spy = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "py-spy"), "record", "--pid", str(server.proc.pid), "--subprocesses",
             "--gil", "--nonblocking", "-r", "500", "-d", str(args.seconds), "-f", "raw", "-o", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
        result = drive(server.port, make, args.seconds - 2, 2)
        spy.wait()
    finally:
        server.stop()
    print(f"{args.endpoint}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms under py-spy")
    print(summary(raw, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
