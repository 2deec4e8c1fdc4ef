"""The one shape of a section of `make bench` (bench/README.md): a module with

- `measure(...) -> dict`, what the section measures, and
- `section(result: dict | None) -> str`, its part of RESULTS.md ("" when it was not run),

run on its own as `python -m bench.MODULE [ARGS]`, which prints the section and then its figures as JSON (the last
line: what bench/run.py reads from a section in its own process).

A section measured in the bench's own process takes a `Bench`: Django set up on a throw-away SQLite database and
the bench's SeaweedFS (`run_in_bench`). A section that starts servers and databases of its own (`OWN_PROCESS = True`)
takes its command line's arguments, typically the databases to measure (`run_in_own_process`); bench/run.py starts
it in a process of its own.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from bench.django_setup import BUCKET, configure_django
from bench.project import postgresql_answers
from localdev.s3server import LocalS3Server


class Bench(NamedTuple):
    """What an in-process section measures with."""

    environment: dict[str, str]  # the settings Django runs with here, for the servers a section starts
    s3: LocalS3Server  # with BUCKET, private
    workdir: Path  # a temporary directory, removed afterwards


@contextmanager
def bench_set_up(name: str) -> Iterator[Bench]:
    """SeaweedFS with a private BUCKET and Django on a new SQLite database, in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix=f"alca-{name}-") as directory:
        workdir = Path(directory)
        s3 = LocalS3Server(data_dir=workdir / "s3", access_key="bench-key", secret_key=secrets.token_hex(20))
        s3.start()
        try:
            s3.ensure_private_bucket(BUCKET)
            yield Bench(configure_django(s3, workdir), s3, workdir)
        finally:
            s3.stop()


def run_in_bench(measure: Callable[[Bench], dict], section: Callable[[dict | None], str], name: str) -> None:
    """`python -m bench.MODULE` of an in-process section."""
    with bench_set_up(name) as bench:
        result = measure(bench)
    print(section(result))
    print(json.dumps(result))


def run_in_own_process(measure: Callable[[list[str]], dict], section: Callable[[dict | None], str]) -> None:
    """`python -m bench.MODULE [ARGS]` of a section with servers of its own."""
    result = measure(sys.argv[1:])
    print(section(result))
    print(json.dumps(result))


def databases_chosen(args: list[str]) -> list[str]:
    """The databases named on the command line; else SQLite, and PostgreSQL when it answers here."""
    return args or (["sqlite", "postgresql"] if postgresql_answers() else ["sqlite"])
