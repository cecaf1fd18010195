"""The capacity arithmetic of docs/capacity.md, from the last bench's measured CPU costs.

    python -m bench.capacity                       # bench/results.json
    python -m bench.capacity --results /tmp/x.json

Each request kind costs what `make bench` measured per request (server CPU, split into the app's
share and PostgreSQL's); the peak load is an assumption, stated here and in the doc. The cores
needed are the load times the cost, divided by a target utilisation (headroom for bursts, a
machine down, a deploy). Prints a Markdown table the doc quotes.
"""

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Sweden, a Monday morning (the assumptions of docs/capacity.md).
THERAPISTS = 10_000
CLIENTS = 300_000
LOOKING_SHARE = 0.10  # of the clients look for a time within the peak hour
THERAPIST_SHARE = 0.50  # of the therapists work in their calendar within that hour
BURST = 3.0  # the busiest minute of the hour against the hour's average
UTILISATION = 0.5  # a core planned at half its measured capacity
CORES_PER_APP_SERVER = 4
CORES_PER_DATABASE = 8

# What one looking client and one working therapist do in that hour, and which bench row
# measures each (the client's own bookings list is a read of her rows, costed as open slots).
CLIENT_ACTIONS = {"listing_page": 2.0, "open_slots": 4.0, "booking": 0.5}
THERAPIST_ACTIONS = {"calendar": 20.0, "booking": 1.0}
# Reads that may go to a replica (the public reads of the router, docs/deploy.md); the
# calendar and every write are the primary's.
REPLICA_READS = {"listing_page", "open_slots"}
LISTING_ROWS = ("listing_all_middle", "listing_all", "listing")


@dataclass
class Cost:
    app_ms: float
    database_ms: float


def costs(results: dict) -> dict[str, Cost]:
    e = results["endpoints"]

    def cost(key: str) -> Cost:
        r = e[key]
        total = r["server_cpu_ms_per_request"]
        database = r.get("database_cpu_ms_per_request", total / 2)
        return Cost(total - database, database)

    booking = e["booking"]
    # The race's requests include the losers' 409s: a booking costs all requests per booking.
    per_booking = booking["rps"] / booking["bookings_per_second"]
    b = cost("booking")
    listing_key = next(k for k in LISTING_ROWS if k in e)
    return {
        "calendar": cost("calendar"),
        "open_slots": cost("open_slots"),
        "listing_page": cost(listing_key),
        "booking": Cost(b.app_ms * per_booking, b.database_ms * per_booking),
    }


def rates(scale: float) -> dict[str, float]:
    """Requests per second of each kind in the busiest minute."""
    clients = CLIENTS * LOOKING_SHARE * scale
    therapists = THERAPISTS * THERAPIST_SHARE * scale
    per_hour: dict[str, float] = {}
    for kind, n in CLIENT_ACTIONS.items():
        per_hour[kind] = per_hour.get(kind, 0.0) + clients * n
    for kind, n in THERAPIST_ACTIONS.items():
        per_hour[kind] = per_hour.get(kind, 0.0) + therapists * n
    return {kind: n / 3600 * BURST for kind, n in per_hour.items()}


def plan(results: dict, scale: float) -> dict:
    c, r = costs(results), rates(scale)
    app = sum(r[k] * c[k].app_ms for k in r) / 1000
    replica = sum(r[k] * c[k].database_ms for k in r if k in REPLICA_READS) / 1000
    primary = sum(r[k] * c[k].database_ms for k in r if k not in REPLICA_READS) / 1000
    return {
        "rates": r,
        "app_cores": app / UTILISATION,
        "primary_cores": primary / UTILISATION,
        "replica_cores": replica / UTILISATION,
        "app_servers": max(2, math.ceil(app / UTILISATION / CORES_PER_APP_SERVER)),
        "replicas": max(1, math.ceil(replica / UTILISATION / CORES_PER_DATABASE)),
        "bookings_per_second": r["booking"],
        "bookings_per_core": 1000 / c["booking"].database_ms,
    }


def cost_table(results: dict) -> str:
    c = costs(results)
    return "\n".join([
        "| request | app CPU ms | PostgreSQL CPU ms | served by |",
        "|---|---:|---:|---|",
        *[f"| {k} | {v.app_ms:.2f} | {v.database_ms:.2f} | {'replica' if k in REPLICA_READS else 'primary'} |"
          for k, v in c.items()],
    ])


def plan_table(results: dict) -> str:
    lines = [
        "| scale | requests/s in the busiest minute | bookings/s | app cores | app servers "
        f"({CORES_PER_APP_SERVER} cores) | primary cores | replica cores | replicas ({CORES_PER_DATABASE} cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, scale in (("Sweden", 1.0), ("100 × Sweden", 100.0)):
        p = plan(results, scale)
        lines.append(
            f"| {name} | {sum(p['rates'].values()):,.0f} | {p['bookings_per_second']:,.1f} | {p['app_cores']:,.1f} | "
            f"{p['app_servers']:,} | {p['primary_cores']:,.1f} | {p['replica_cores']:,.1f} | {p['replicas']:,} |"
        )
    lines += ["", f"One primary core commits {plan(results, 1.0)['bookings_per_core']:,.0f} bookings/s "
                  "(PostgreSQL's CPU per booking, the losers' 409s included)."]
    return "\n".join(lines)


def report(results: dict) -> str:
    return cost_table(results) + "\n\n" + plan_table(results)


def write_doc(path: Path, results: dict) -> None:
    """Replace the two generated tables of docs/capacity.md, each between its markers
    (`<!-- capacity:NAME -->` … `<!-- /capacity:NAME -->`), keeping the text around them."""
    text = path.read_text()
    for name, table in (("costs", cost_table(results)), ("plan", plan_table(results))):
        begin, end = f"<!-- capacity:{name} -->", f"<!-- /capacity:{name} -->"
        head, found, rest = text.partition(begin)
        _, found_end, tail = rest.partition(end)
        if not (found and found_end):
            raise SystemExit(f"{path} has no {begin} … {end}")
        text = f"{head}{begin}\n{table}\n{end}{tail}"
    path.write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--doc", default=None, help="docs/capacity.md to update")
    args = parser.parse_args(argv)
    results = json.loads(Path(args.results).read_text())
    print(report(results))
    if args.doc:
        write_doc(Path(args.doc), results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
