"""What GET /received shows: the last KEEP triggers, never a credential.

A recurring job sends a trigger every tick, so the log keeps only the last KEEP of them and
counts the ones it dropped. Headers that carry credentials (dapr-api-token, authorization,
cookies...) are never stored: only their names, under "withheld_headers".
"""

from __future__ import annotations

import collections
import re
import threading

KEEP = 2000  # triggers kept (the benchmark's largest burst into job_service is 1,100)
BODY_CHARS = 2048  # characters of a body kept; "body_bytes" is its real size
CREDENTIAL = re.compile(r"auth|cookie|token|secret|passw|api-?key", re.IGNORECASE)


def shareable_headers(headers: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The headers safe to show, and the sorted names of the credential ones left out."""
    shown = {k: v for k, v in headers.items() if not CREDENTIAL.search(k)}
    return shown, sorted(k for k in headers if CREDENTIAL.search(k))


def body_fields(body: bytes) -> dict:
    text = body[: BODY_CHARS * 4].decode(errors="replace")[:BODY_CHARS]
    return {"body": text, "body_bytes": len(body)}


class TriggerLog:
    """Thread-safe and bounded; records() returns copies, oldest first."""

    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self.dropped = 0
        self._kept: collections.deque[dict] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, record: dict) -> None:
        with self._lock:
            if len(self._kept) == self.keep:
                self.dropped += 1
            self._kept.append(record)

    def records(self, name: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._kept if name is None or r["name"] == name]

    def summary(self) -> dict:
        with self._lock:
            return {"kept": len(self._kept), "dropped": self.dropped, "keep": self.keep}
