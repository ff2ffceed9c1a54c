"""Checkers of notebook 10 (to production): how many members a group may lose, and the
--scheduler-host-address that lets a sidecar find the group while a member is down."""

from __future__ import annotations

import contextlib

import httpx

from workbook.lessons.exercises import NotYet, answered
from workbook.lessons.production import hosts_lines
from workbook.runtime.apps import unique_name
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

# A sidecar given a live member finds the group within ~2 s (measured); one given only a
# dead member never does. The check waits this long before saying so.
FIND_GROUP_S = 10


def tolerates(may_fail, seen: dict[int, bool]) -> str:
    """10.1: `may_fail(n)` is how many members of a group of n may be down while jobs are still
    stored and fired (a majority, n // 2 + 1, must live). `seen` maps members down -> fired in
    this notebook's group of three."""
    if may_fail is ...:
        raise NotYet("may_fail is still the placeholder `...`: write the function")
    wrong = []
    for n in range(1, 8):
        said = answered(may_fail(n), f"may_fail({n})")
        if said != (n - 1) // 2:
            wrong.append((n, said))
    if wrong:
        n, said = wrong[0]
        left = n - said
        raise NotYet(
            f"may_fail({n}) returned {said}: with {said} of {n} down, {left} "
            f"{'remains' if left == 1 else 'remain'}, and "
            f"{n} members need {n // 2 + 1} for a majority. Hint: a majority of n is n // 2 + 1"
            + (" (your answer is right for odd n only?)" if n % 2 == 0 else "")
        )
    for down, fired in sorted(seen.items()):
        if fired != (down <= may_fail(3)):
            raise NotYet(f"the live group disagrees: with {down} of 3 down, fired={fired}")
    table = ", ".join(f"{n}: {(n - 1) // 2}" for n in (1, 3, 5, 7))
    return f"may_fail(n) is right for n = 1..7 ({table}); the live group agreed: " + ", ".join(
        f"{d} down -> {'fired' if f else 'nothing fired'}" for d, f in seen.items()
    )


def finds_the_group(scheduler_hosts, group) -> str:
    """10.2: a new sidecar started with `--scheduler-host-address <scheduler_hosts>` while a
    member of `group` is down reaches the group, and would whichever member were down."""
    hosts = answered(scheduler_hosts, "scheduler_hosts")
    if not isinstance(hosts, str):
        raise NotYet(
            f"scheduler_hosts is a {type(hosts).__name__}: daprd takes one string, the "
            'addresses joined by commas, e.g. ",".join(...)'
        )
    given = [h.strip() for h in hosts.split(",") if h.strip()]
    members = [m.address for m in group.members]
    unknown = [h for h in given if h not in members]
    if unknown:
        raise NotYet(f"{unknown[0]} is not a member of the group; the members are {members}")
    down = [m.address for m in group.members if not m.alive()]
    log_path = group.members[0].data_dir.parent.parent / f"probe-{unique_name('daprd')}.log"
    sidecar = Sidecar(unique_name("probe"), scheduler_address=hosts, log_path=log_path)
    try:
        sidecar.launch()
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: hosts_lines(log_path), timeout=FIND_GROUP_S, what="the group")
        found = hosts_lines(log_path)
        if not found:
            raise NotYet(
                f"the sidecar found no scheduler in {FIND_GROUP_S} s: you gave it {given}, and "
                f"{', '.join(down) or 'none'} is down. Give it every member, comma-separated"
            )
        sidecar.wait_ready(timeout=20)
        job_url = f"{sidecar.http_url}/v1.0/jobs/{unique_name('probe')}"
        answer = httpx.post(job_url, json={"dueTime": "1h"}, timeout=35)
        httpx.delete(job_url, timeout=35)
    finally:
        sidecar.stop()
    if answer.status_code != 204:
        raise NotYet(f"the sidecar found the group, but scheduling answered {answer.status_code}")
    missing = [m for m in members if m not in given]
    if missing:
        raise NotYet(
            f"it worked now, through {given}; but had {missing[0]} been the only address "
            f"and that member down, the sidecar would have found nothing: list all "
            f"{len(members)} members"
        )
    return (
        f"with {len(given)} addresses and {down[0] if down else 'no member'} down, the sidecar "
        f"received the scheduler addresses [{found[-1]}] and scheduled a job (204)"
    )


WRONG = {
    # A plausible rule that is right for odd n only: it allows half of an even group to fail.
    "10.1": "def may_fail(n):\n    return n // 2\n",
    # Only the address of the member that is down.
    "10.2": "scheduler_hosts = group.members[first_victim].address\n",
}
