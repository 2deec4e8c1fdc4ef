"""The reader's side of bench/feed_sync.py: a copy kept by a snapshot and the feed of changes, and how it differs
from a fresh read of every house and photo."""

from __future__ import annotations

import threading
import time

import requests

KINDS = {"house_for_sale": ("houses-for-sale", "price"), "house_for_rent": ("houses-for-rent", "monthly_rent")}


class Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        url = path if path.startswith("http") else self.base_url + path
        return self.session.request(method, url, timeout=60, **kwargs)

    def walk(self, url: str) -> list[dict]:
        """Every row of a list, by cursor."""
        rows = []
        while url:
            answer = self.call("GET", url)
            answer.raise_for_status()
            rows += answer.json()["results"]
            url = answer.json()["next"]
        return rows


class Reader(threading.Thread):
    """Snapshot, then the feed, applied to a copy {(kind, id): object}, until `stop` is set and it has read to the
    end once after."""

    def __init__(self, api: Api) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.copy: dict[tuple[str, int], dict] = {}
        self.seen: set[int] = set()
        self.duplicates = 0
        self.applied = 0
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            first = self.api.call("GET", "/api/changes/").json()
            cursor = first["cursor"]
            self.copy = snapshot(self.api, first["snapshot"])
            while True:
                stopping = self.stop.is_set()
                page = self.api.call("GET", "/api/changes/", params={"after": cursor, "page_size": 500})
                if page.status_code != 200:
                    self.errors.append(f"feed: HTTP {page.status_code} {page.text[:160]}")
                    time.sleep(0.5)
                    continue
                body = page.json()
                for entry in body["results"]:
                    self.apply(entry)
                cursor = body["cursor"]
                if not body["has_more"]:
                    if stopping:
                        return
                    time.sleep(0.1)
        except Exception as error:  # noqa: BLE001 - reported, not raised in a thread
            self.errors.append(f"reader: {type(error).__name__}: {error}")

    def apply(self, entry: dict) -> None:
        if entry["id"] in self.seen:
            self.duplicates += 1
            return
        self.seen.add(entry["id"])
        self.applied += 1
        key = (entry["kind"], entry["object_id"])
        if entry["data"] is None:
            self.copy.pop(key, None)
        else:
            self.copy[key] = entry["data"]


def snapshot(api: Api, lists: dict[str, str]) -> dict[tuple[str, int], dict]:
    """Every house and photo, read from the lists the feed names (a house's own fields only)."""
    copy: dict[tuple[str, int], dict] = {}
    for name, kind in (("houses_for_sale", "house_for_sale"), ("houses_for_rent", "house_for_rent")):
        for house in api.walk(lists[name]):
            copy[(kind, house["id"])] = {key: value for key, value in house.items() if key not in DERIVED}
    for image in api.walk(lists["property_images"]):
        copy[("image", image["id"])] = image
    return copy


DERIVED = {"images", "main_image", "image_count"}


def comparable(kind: str, row: dict) -> dict:
    """A row without what each answer signs anew (its URLs)."""
    if kind != "image":
        return {key: value for key, value in row.items() if key not in DERIVED}
    same = {key: value for key, value in row.items() if key not in ("secure_url", "image_url", "variants")}
    same["variants"] = {
        name: {key: value for key, value in variant.items() if not key.endswith("url")}
        for name, variant in row["variants"].items()
    }
    return same


def differences(copy: dict, api: Api) -> list[str]:
    """Where the copy differs from a fresh read: rows missing or extra, fields, and each house's main photo and
    number of photos as worked out from the copy's photos."""
    lists = api.call("GET", "/api/changes/").json()["snapshot"]
    fresh = snapshot(api, lists)
    found = []
    for key in sorted(set(copy) | set(fresh), key=str):
        if key not in copy or key not in fresh:
            found.append(f"{key}: {'missing from the copy' if key not in copy else 'in the copy, no longer there'}")
        elif comparable(key[0], copy[key]) != comparable(key[0], fresh[key]):
            found.append(f"{key}: fields differ")
    photos_by_house: dict[tuple[str, int], list[dict]] = {}
    for (kind, _), row in copy.items():
        if kind == "image":
            photos_by_house.setdefault((row["content_type"], row["object_id"]), []).append(row)
    for kind, (path, _) in KINDS.items():
        for house in api.walk(f"{api.base_url}/api/{path}/?paging=cursor&page_size=100"):
            photos = photos_by_house.get((kind, house["id"]), [])
            cover = min(photos, key=lambda p: (not p["is_main"], p["order"], p["id"]), default=None)
            if house["image_count"] != len(photos):
                found.append(f"{kind} {house['id']}: image_count {house['image_count']}, the copy {len(photos)}")
            if (house["main_image"] or {}).get("id") != (cover or {}).get("id"):
                found.append(f"{kind} {house['id']}: main_image differs from the copy's cover")
    return found
