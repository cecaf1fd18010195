"""The access log's cost on the calendar (R39, docs/performance.md): the calendar API asked
in-process (Django's test client, the production settings) with and without its access
records, interleaved in blocks of 150 requests so that the machine's other load falls on both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tidbok_bench ALLOWED_HOSTS=testserver \\
        .venv/bin/python -m bench.access_log_ab [rounds] [--mix]

Without `--mix` every week asked holds a booking (each request writes); with it, a random
therapist and week as `make bench` asks."""

import os
import random
import statistics
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidbok.settings")
os.environ.setdefault("SECRET_KEY", "access-log-ab")

import django  # noqa: E402

django.setup()

from django.db.models import Min  # noqa: E402
from django.test import Client  # noqa: E402

import api.api as api_module  # noqa: E402
from bench.load import token_for  # noqa: E402
from domain.models import Booking, Slot, Therapist  # noqa: E402


def weeks(mix: bool, rng: random.Random) -> list[tuple[int, object]]:
    def monday(day):
        return (day - timedelta(days=day.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)

    if mix:
        base = Slot.objects.aggregate(m=Min("start_at"))["m"] + timedelta(days=182)
        users = list(Therapist.objects.values_list("user_id", flat=True))
        return [(rng.choice(users), monday(base - timedelta(days=175 - rng.randrange(0, 350)))) for _ in range(400)]
    booked = Booking.objects.filter(status="confirmed").values_list("therapist__user_id", "start_at")[:400]
    return [(user_id, monday(start)) for user_id, start in booked]


def main() -> None:
    rounds = int(next((a for a in sys.argv[1:] if a.isdigit()), "12"))
    rng = random.Random(1)
    pairs = weeks("--mix" in sys.argv, rng)
    http, real = Client(), api_module.record_reads_when_sent

    def call(user_id, start):
        response = http.get("/api/v1/therapist/calendar",
                            {"start": start.isoformat(), "end": (start + timedelta(days=7)).isoformat()},
                            headers={"Authorization": f"Bearer {token_for(user_id)}"})
        assert response.status_code == 200, response.content

    for user_id, start in pairs:
        call(user_id, start)  # warm: connections, prepared statements, token stamps
    times = {"without": [], "with": []}
    for n in range(rounds):
        for mode in (("with", "without") if n % 2 else ("without", "with")):
            api_module.record_reads_when_sent = real if mode == "with" else (lambda *args, **kwargs: None)
            for user_id, start in rng.sample(pairs, 150):
                began = time.perf_counter()
                call(user_id, start)
                times[mode].append((time.perf_counter() - began) * 1000)
    api_module.record_reads_when_sent = real
    for mode, values in times.items():
        values.sort()
        print(f"{mode:8} n {len(values)}  p50 {values[len(values) // 2]:.2f} ms  "
              f"p95 {values[int(len(values) * 0.95)]:.2f} ms  mean {statistics.mean(values):.2f} ms")


if __name__ == "__main__":
    main()
