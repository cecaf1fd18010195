"""The floor, `GET /me` (a login and one query) and the calendar, each driven as in `make bench`
for 6 s, twice, with their p50 as a ratio to the floor's: how much of the calendar's ratio any
logged-in read pays before it reads anything.

    .venv/bin/python -m bench.ratio
"""

import tempfile
from pathlib import Path

from .load import BIG, loaded_base
from .run import (
    DEFAULT_URL,
    Server,
    calendar_request,
    default_workers,
    drive,
    health_request,
    mark_tokens_used,
    me_request,
)


def main() -> int:
    url = DEFAULT_URL
    base = loaded_base(url)
    mark_tokens_used(url)
    calendar, me = calendar_request(BIG, base), me_request(BIG, base)

    server = Server(url, default_workers(), Path(tempfile.mkdtemp(prefix="tidbok-ratio-")))
    server.start()
    try:
        for make in (health_request, calendar, me):
            drive(server.port, make, 2, 2)
        for _ in range(2):
            floor = drive(server.port, health_request, 6, 2)["p50_ms"]
            me_p50 = drive(server.port, me, 6, 2)["p50_ms"]
            cal_p50 = drive(server.port, calendar, 6, 2)["p50_ms"]
            print(f"floor {floor:.2f} ms   /me {me_p50:.2f} ms ({me_p50 / floor:.2f} ×)   "
                  f"calendar {cal_p50:.2f} ms ({cal_p50 / floor:.2f} ×)")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
