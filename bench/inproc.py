"""CPU per request inside one process, for before/after comparisons while optimising.

Runs the bench's requests through Django's test client against a loaded bench database
(DEBUG off, no network), and prints, per endpoint, the wall and CPU time per request of this
process and the number of SQL queries. The PostgreSQL backend's own time is in the wall time
only. Usage:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tidbok_bench .venv/bin/python -m bench.inproc [-n 300]
    ... -m bench.inproc --profile calendar   # pyinstrument's tree for one endpoint
"""

import argparse
import os
import random
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidbok.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-inproc")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tidbok_bench")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="requests per endpoint")
    parser.add_argument("--profile", help="endpoint to profile with pyinstrument")
    parser.add_argument("--book", type=int, default=0, help="also time N client bookings (writes to the database)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    class Count:
        def __init__(self):
            self.sql = []

        def __call__(self, execute, sql, params, many, context):
            self.sql.append(sql)
            return execute(sql, params, many, context)

    def counted(*request):
        counter = Count()
        with connection.execute_wrapper(counter):
            response = call(*request)
        return response, counter.sql

    from .load import BIG, loaded_base
    from .run import calendar_request, health_request, listing_request, me_request, open_slots_request, race_setup

    base = loaded_base(os.environ["DATABASE_URL"])
    endpoints = {
        "floor": health_request,
        "me": me_request(BIG, base),
        "calendar": calendar_request(BIG, base),
        "open_slots": open_slots_request(BIG),
        "listing": listing_request,
    }
    client = Client()

    def call(method, path, headers, body):
        headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        if method == "GET":
            return client.get(path, **headers)
        return client.post(path, body, content_type="application/json", **headers)

    if args.profile and args.profile != "book":
        from pyinstrument import Profiler

        make, rng = endpoints[args.profile], random.Random(1)
        for _ in range(20):
            call(*make(rng))
        with Profiler(interval=0.0002) as profiler:
            for _ in range(args.n):
                call(*make(rng))
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return 0

    def backend_cpu() -> float:
        """CPU seconds of this connection's PostgreSQL backend (same machine)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    print(f"{'endpoint':<12} {'wall µs':>9} {'cpu µs':>9} {'pg cpu µs':>9} {'queries':>8}")
    for name, make in endpoints.items() if args.profile != "book" else ():
        rng = random.Random(1)
        n = args.n if name != "listing" else max(10, args.n // 10)
        for _ in range(10):
            call(*make(rng))
        _, queries = counted(*make(rng))
        pg = backend_cpu()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            response = call(*make(rng))
            assert response.status_code == 200, (name, response.status_code, response.content[:300])
        wall, cpu = (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n
        pg = (backend_cpu() - pg) / n
        print(f"{name:<12} {wall * 1e6:>9.0f} {cpu * 1e6:>9.0f} {pg * 1e6:>9.0f} {len(queries):>8}")

    if args.book:
        import json

        slots, users = race_setup(os.environ["DATABASE_URL"], BIG, base)
        slots = slots[: args.book]
        from .load import token_for

        times, statuses = [], {}
        profiler = None
        if args.profile == "book":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
        pg, cpu0 = backend_cpu(), time.process_time()
        for i, slot in enumerate(slots):
            user = users[i % len(users)]
            t = time.perf_counter()
            request = ("POST", f"/api/v1/slots/{slot}/book",
                       {"Authorization": f"Bearer {token_for(user)}"}, json.dumps({"mode": "video"}))
            if i == 0:
                response, queries = counted(*request)
            else:
                response = call(*request)
            times.append(time.perf_counter() - t)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        cpu, pg = (time.process_time() - cpu0) / len(slots), (backend_cpu() - pg) / len(slots)
        if profiler:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False))
        print(f"{'book':<12} {sum(times) / len(times) * 1e6:>9.0f} {cpu * 1e6:>9.0f} {pg * 1e6:>9.0f} "
              f"{len(queries):>8}  {statuses}")
        for sql in queries:
            print("   ", sql[:160])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
