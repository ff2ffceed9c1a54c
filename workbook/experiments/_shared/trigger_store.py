"""The one trigger store of the experiment apps: the last KEEP requests, no credentials.

Standard library only, so every child app can use it without importing the helper package.

    store = TriggerStore()                        # or TriggerStore(mirror=Path("got.jsonl"))
    store.add({"name": "R2-D2", "headers": {...}, ...})   # credential headers are withheld
    store.records(name="R2-D2")                   # oldest first, copies
    store.summary()                               # {"kept": 1, "dropped": 0, "keep": 2000}

A recurring job cannot grow it without limit: past KEEP records the oldest are dropped and
counted. With `mirror`, every record is also appended to a JSON-lines file (for an app that
has no HTTP port to be asked, like the gRPC receiver); the file is cut back to the kept
records whenever it holds twice as many, and read with `read_mirror(path)`.
"""

from __future__ import annotations

import collections
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

KEEP = 2000  # records kept; enough for every experiment and the benchmark's 1,100-job bursts
BODY_CHARS = 2048  # characters of a body kept (its full size is kept as body_bytes)
# Header names that carry credentials: never stored, only named in "withheld_headers".
CREDENTIAL = re.compile(r"auth|cookie|token|secret|passw|api-?key", re.IGNORECASE)


def shareable_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict, list[str]]:
    """Split headers into those safe to show and the sorted names of credential ones."""
    shown, withheld = {}, set()
    for name, value in headers:
        name = name.lower()
        if CREDENTIAL.search(name):
            withheld.add(name)
        else:
            shown[name] = value
    return shown, sorted(withheld)


def body_fields(body: bytes) -> dict:
    """A body as the store keeps it: its first BODY_CHARS characters and its size."""
    text = body[: BODY_CHARS * 4].decode(errors="replace")[:BODY_CHARS]
    return {"body": text, "body_bytes": len(body)}


class TriggerStore:
    """Thread-safe, bounded, oldest first. Records are dicts; `add` returns the stored one, which
    the caller may still update (e.g. with the status it answered) under `store.lock`."""

    def __init__(self, keep: int = KEEP, *, mirror: Path | None = None):
        self.keep = keep
        self.lock = threading.RLock()  # re-entrant: a caller may count and add as one step
        self.dropped = 0
        self._kept: collections.deque[dict] = collections.deque(maxlen=keep)
        self.mirror = Path(mirror) if mirror else None
        self._mirror_lines = 0
        if self.mirror:
            self.mirror.parent.mkdir(parents=True, exist_ok=True)
            self.mirror.write_text("")

    def add(self, record: Mapping) -> dict:
        record = dict(record)
        if "headers" in record:
            record["headers"], withheld = shareable_headers(dict(record["headers"]).items())
            record["withheld_headers"] = withheld
        with self.lock:
            if len(self._kept) == self.keep:
                self.dropped += 1
            self._kept.append(record)
            if self.mirror:
                self._write_mirror(record)
        return record

    def records(self, **match) -> list[dict]:
        """Copies of the kept records whose fields equal every `match` value, oldest first."""
        with self.lock:
            return [dict(r) for r in self._kept if all(r.get(k) == v for k, v in match.items())]

    def count(self, **match) -> int:
        with self.lock:
            return sum(1 for r in self._kept if all(r.get(k) == v for k, v in match.items()))

    def summary(self) -> dict:
        with self.lock:
            return {"kept": len(self._kept), "dropped": self.dropped, "keep": self.keep}

    def _write_mirror(self, record: dict) -> None:
        if self._mirror_lines >= 2 * self.keep:  # cut the file back to what is kept
            fresh = self.mirror.with_suffix(".tmp")
            fresh.write_text("".join(json.dumps(r) + "\n" for r in self._kept))
            os.replace(fresh, self.mirror)
            self._mirror_lines = len(self._kept)
            return
        with self.mirror.open("a") as out:
            out.write(json.dumps(record) + "\n")
        self._mirror_lines += 1


def read_mirror(path: Path) -> list[dict]:
    """The records a store mirrored to `path`, oldest first (a line still being written is
    left for the next read)."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    complete = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()]
