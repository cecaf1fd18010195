"""Two trees' answers and speed on one endpoint, back to back: this tree against another
checkout (an older commit, e.g. `git archive COMMIT | tar -x -C /tmp/before`, with a `.venv`
beside it), each under its own gunicorn on the loaded bench database.

First the same random requests go to both and every answer must be the same byte for byte;
then the floor and the endpoint of both trees are driven in 1-s turns (`run.alternate`), so
that the machine's other load falls on all four alike, and each tree's p50 against its own
floor is printed with the server CPU per request.

    .venv/bin/python -m bench.ab /tmp/before [--endpoint open_slots] [--seconds 20] [--repeat 2]
"""

import argparse
import http.client
import random
import tempfile
from pathlib import Path

from . import run
from .load import BIG, loaded_base

ENDPOINTS = {
    "open_slots": lambda base: run.open_slots_request(BIG),
    "calendar": lambda base: run.calendar_request(BIG, base),
    "me": lambda base: run.me_request(BIG, base),
}


def answer(port: int, method: str, path: str, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="the other tree (its own code, migrations ignored)")
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="open_slots")
    parser.add_argument("--seconds", type=float, default=20.0, help="per side and repeat")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--compare", type=int, default=200, help="requests whose answers must be equal")
    args = parser.parse_args(argv)

    url = run.DEFAULT_URL
    make = ENDPOINTS[args.endpoint](loaded_base(url))
    run.mark_tokens_used(url)
    servers = {}
    try:
        for name, root in (("before", Path(args.before).resolve()), ("after", run.ROOT)):
            server = run.Server(url, run.default_workers(), Path(tempfile.mkdtemp(prefix=f"tidbok-ab-{name}-")), root)
            server.start()
            servers[name] = server
        rng = random.Random(7)
        for _ in range(args.compare):
            method, path, headers, _ = make(rng)
            before, after = (answer(s.port, method, path, headers) for s in servers.values())
            if before != after:
                raise SystemExit(f"{path}: the answers differ\nbefore {before!r:.300}\nafter  {after!r:.300}")
        print(f"{args.compare} answers the same byte for byte", flush=True)

        cpus = {name: run.ServerCpu(s) for name, s in servers.items()}
        for s in servers.values():  # warm every worker's connection and code paths
            run.drive(s.port, run.health_request, 1, 2)
            run.drive(s.port, make, 2, 2)
        for n in range(args.repeat):
            sides = [(s.port, req, cpus[name]) for name, s in servers.items() for req in (run.health_request, make)]
            results = run.alternate(sides, args.seconds, 2, rounds=max(int(args.seconds), 1))
            for k, name in enumerate(servers):
                floor, endpoint = results[2 * k], results[2 * k + 1]
                print(f"{n + 1} {name:6}  floor p50 {floor['p50_ms']:.2f} ms | {args.endpoint} p50 "
                      f"{endpoint['p50_ms']:.2f} p95 {endpoint['p95_ms']:.2f} ms, server CPU "
                      f"{endpoint['server_cpu_ms_per_request']:.2f} ms/request, errors {endpoint['errors']} | "
                      f"p50 / floor {endpoint['p50_ms'] / floor['p50_ms']:.2f} ×", flush=True)
    finally:
        for s in servers.values():
            s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
