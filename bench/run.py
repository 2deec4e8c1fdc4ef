"""`make bench`: every section of bench/README.md, each measured side by side in one run, written with the machine
they came from to bench/RESULTS.md.

`python -m bench.run NAME...` runs only the sections named (README's NAME column): it prints what they measured
and leaves RESULTS.md alone. The in-process sections share one throw-away SQLite database and SeaweedFS
(bench/sections.py); a section with servers of its own runs as `python -m bench.MODULE` in a process of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from bench import (
    avif,
    changes,
    cloudfront,
    feed_sync,
    heic,
    listing,
    load,
    presign,
    referee,
    s3_budget,
    scale,
    serving,
    share_links,
    uploads,
    variant_cost,
)
from bench.report import machine
from bench.sections import Bench, bench_set_up

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

# (NAME, what the progress line says, the section's module), in RESULTS.md's order.
SECTIONS: list[tuple[str, str, ModuleType]] = [
    ("presign", "presigning", presign),
    ("list", "list endpoint", listing),
    ("upload", "bulk upload", uploads),
    ("load", "load test", load),
    ("variants", "variant cost", variant_cost),
    ("serving", "served side by side with the reference build", serving),
    ("budget", "S3 under the time budget", s3_budget),
    ("cloudfront", "CloudFront signed URLs", cloudfront),
    ("avif", "AVIF against WebP", avif),
    ("scale", "reads at 1,000 and 100,000 houses", scale),
    ("referee", "against the shared reference", referee),
    ("heic", "a phone's HEIC against the same photo as JPEG", heic),
    ("share_links", "share links: a house's photos as one ZIP, unknown tokens", share_links),
    ("changes", "the feed of changes at 1,000 and 1,000,000 changes", changes),
    ("feed_sync", "a copy kept by the feed under eight writers", feed_sync),
]


def in_own_process(module: str, *args: str) -> dict:
    """The JSON that `python -m module args` prints last: a section with databases and servers of its own."""
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=BASE_DIR, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"python -m {module} failed ({result.returncode}): {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measured(module: ModuleType, bench: Bench) -> dict:
    if getattr(module, "OWN_PROCESS", False):
        return in_own_process(module.__name__)
    return module.measure(bench)


def report(results: dict[str, dict], failures: dict[str, str]) -> str:
    sections = "\n".join(
        f"## {title}: not measured\n\nThe section failed:\n\n```\n{failures[name]}\n```\n"
        if name in failures
        else module.section(results.get(name))
        for name, title, module in SECTIONS
    )
    return f"""# Benchmark results

Latest `make bench`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.
S3: local SeaweedFS on loopback. Database: SQLite. Each pair measured side by side in the same run.

{sections}"""


def main() -> None:
    only = set(sys.argv[1:])
    unknown = only - {name for name, _, _ in SECTIONS}
    if unknown:
        raise SystemExit(f"no section {', '.join(sorted(unknown))}: see bench/README.md")
    results: dict[str, dict] = {}
    failures: dict[str, str] = {}  # a section that fails is reported, and the others still run
    with bench_set_up("bench") as bench:
        for number, (name, title, module) in enumerate(SECTIONS, 1):
            if not only or name in only:
                print(f"{number}/{len(SECTIONS)} {title} ...", flush=True)
                try:
                    results[name] = measured(module, bench)
                except Exception as error:  # noqa: BLE001 - any failure of a section is its report
                    failures[name] = f"{type(error).__name__}: {error}"[-3000:]
                    print(f"{name} failed: {failures[name]}", file=sys.stderr, flush=True)
    if only:
        for name, result in results.items():
            print(json.dumps({name: result}))
    else:
        text = report(results, failures)
        RESULTS.write_text(text)
        print(text)
    if failures:
        raise SystemExit(f"failed: {', '.join(failures)}")


if __name__ == "__main__":
    main()
