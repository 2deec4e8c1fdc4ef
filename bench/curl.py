"""curl as the serving benchmark's client (bench/serving.py): one process per run of requests, one keep-alive
connection, each request's time as curl measures it, and the CPU curl itself spends."""

from __future__ import annotations

import resource
import subprocess


def curl_version() -> str:
    return subprocess.run(["curl", "--version"], check=True, capture_output=True, text=True).stdout.split("\n")[0]


WRITE_OUT = "%{http_code} %{time_total} %{num_connects}\\n"


class Client:
    """curl on one keep-alive connection: each request's time as curl measures it, and curl's own CPU."""

    def __init__(self) -> None:
        self.requests = 0
        self.cpu_seconds = 0.0

    def times_ms(self, url: str, token: str, count: int) -> list[float]:
        config = f'header = "Authorization: Bearer {token}"\n' + f'url = "{url}"\noutput = "/dev/null"\n' * count
        return self.run(config, url, count)

    def post_times_ms(self, url: str, token: str, bodies: list[str]) -> list[float]:
        """Each JSON body POSTed in turn (`next` starts each request's own options; the connection stays)."""
        block = 'header = "Authorization: Bearer {token}"\nheader = "Content-Type: application/json"\n'
        block += 'data = "{body}"\nurl = "{url}"\noutput = "/dev/null"\nwrite-out = "{write_out}"\n'
        config = "next\n".join(
            block.format(token=token, body=body.replace('"', '\\"'), url=url, write_out=WRITE_OUT) for body in bodies
        )
        return self.run(config, url, len(bodies))

    def run(self, config: str, url: str, count: int) -> list[float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(
            [
                "curl",
                "--silent",
                "--show-error",
                "--config",
                "-",
                "--write-out",
                WRITE_OUT,
            ],
            input=config,
            capture_output=True,
            text=True,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        answers = [line.split() for line in result.stdout.splitlines()]
        if len(answers) != count or any(status != "200" for status, _, _ in answers):
            raise RuntimeError(f"{url}: {sorted({status for status, _, _ in answers})} {result.stderr[-300:]}")
        if sum(int(connects) for _, _, connects in answers) > 1:
            raise RuntimeError(f"{url}: curl opened more than one connection")
        self.requests += count
        self.cpu_seconds += (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return [float(seconds) * 1000 for _, seconds, _ in answers]
