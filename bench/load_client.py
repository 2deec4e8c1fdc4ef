"""The load test's client (bench/load.py, and the soak's, bench/soak.py): one keep-alive session of a user making
the mix of requests below until a deadline, recording each answer's time and any error."""

from __future__ import annotations

import random
import secrets
import statistics
import threading
import time
from collections import Counter

import requests

# Operation, weight, and what it does (for the report).
MIX = [
    ("list", 40, "list (100 per page)"),
    ("detail", 20, "detail"),
    ("secure_url", 25, "`secure_url`"),
    ("upload", 6, "multipart upload of one 800x600 photo"),
    ("direct_upload", 4, "direct upload of one (presigned POST to S3, then `complete_upload` sent twice)"),
    ("delete", 5, "delete of an image the client uploaded"),
]


class LoadClient(threading.Thread):
    def __init__(self, base_url: str, token: str, house: int, photo: bytes, deadline: float, max_requests: int):
        super().__init__(daemon=True)
        self.base_url, self.house, self.photo = base_url, house, photo
        self.deadline, self.max_requests = deadline, max_requests
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.latencies: list[float] = []
        self.outcomes: Counter = Counter()
        self.errors: list[str] = []
        self.mine: list[int] = []
        self.known: list[int] = []
        self.random = random.Random(secrets.randbits(32))

    def call(self, operation: str, method: str, path: str, expected: int, **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base_url + path, timeout=30, **kwargs)
        except requests.RequestException as error:
            self.errors.append(f"{operation}: {type(error).__name__}")
            return None
        self.latencies.append(time.perf_counter() - started)
        self.outcomes[operation] += 1
        if response.status_code != expected:
            self.errors.append(f"{operation}: HTTP {response.status_code} {response.text[:120]}")
            return None
        return response

    def run(self) -> None:
        operations, weights, _ = zip(*MIX, strict=True)
        listing = f"/api/property-images/?content_type=house_for_sale&object_id={self.house}&page_size=100"
        while time.monotonic() < self.deadline and sum(self.outcomes.values()) < self.max_requests:
            operation = self.random.choices(operations, weights)[0]
            if operation == "list" or not self.known:
                response = self.call("list", "GET", listing, 200)
                if response is not None:
                    # Reads go to the seed images, which no client deletes: another client's delete
                    # racing this client's read would be a correct 404, not a server error.
                    results = response.json()["results"]
                    self.known = [image["id"] for image in results if image["original_filename"].startswith("seed")]
            elif operation == "detail":
                self.call("detail", "GET", f"/api/property-images/{self.random.choice(self.known)}/", 200)
            elif operation == "secure_url":
                self.call(
                    "secure_url", "GET", f"/api/property-images/{self.random.choice(self.known)}/secure_url/", 200
                )
            elif operation == "upload":
                files = [("images", ("load.jpg", self.photo, "image/jpeg"))]
                response = self.call(
                    "upload", "POST", f"/api/houses-for-sale/{self.house}/upload_images/", 201, files=files
                )
                if response is not None:
                    self.mine.extend(image["id"] for image in response.json())
            elif operation == "direct_upload":
                self.direct_upload()
            elif operation == "delete" and self.mine:
                self.call("delete", "DELETE", f"/api/property-images/{self.mine.pop()}/", 204)

    def direct_upload(self) -> None:
        """upload_url, the file straight to S3, then complete_upload twice: a client retrying after a lost
        answer must get the same image back, not a second one."""
        target = {"content_type": "house_for_sale", "object_id": self.house}
        issued = self.call("upload_url", "POST", "/api/property-images/upload_url/", 200, json=target)
        if issued is None:
            return
        upload = issued.json()
        try:
            posted = requests.post(
                upload["url"],
                data={**upload["fields"], "Content-Type": "image/jpeg"},
                files={"file": ("load.jpg", self.photo, "image/jpeg")},
                timeout=30,
            )
        except requests.RequestException as error:
            self.errors.append(f"post to S3: {type(error).__name__}")
            return
        if posted.status_code not in (200, 201, 204):
            self.errors.append(f"post to S3: HTTP {posted.status_code}")
            return
        body = {"key": upload["key"], **target}
        first = self.call("complete_upload", "POST", "/api/property-images/complete_upload/", 201, json=body)
        again = self.call("complete_upload", "POST", "/api/property-images/complete_upload/", 201, json=body)
        if first is None:
            return
        self.mine.append(first.json()["id"])
        if again is not None and again.json()["id"] != first.json()["id"]:
            self.errors.append("complete_upload sent again: a second image")


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100)[int(fraction * 100) - 1] * 1000 if len(values) > 1 else 0.0
