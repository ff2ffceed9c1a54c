"""The tables of a results dict, as plain text and as Markdown, and the files."""

from __future__ import annotations

import json
from pathlib import Path

from bench.summary import QUIET_OTHERS_CORES
from bench.timing import EARLY_TOLERANCE_MS


def _fmt(s: dict | float | None) -> str:
    """A figure over runs as 'median (min-max)', or a single number."""
    if isinstance(s, dict):
        if s.get("median") is None:
            return "-"
        if s["runs"] > 1 and s["min"] != s["max"]:
            return f"{s['median']:g} ({s['min']:g}-{s['max']:g})"
        return f"{s['median']:g}"
    return "-" if s is None else f"{s:g}"


def tables(results: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    out = []
    meta = results["meta"]
    m, v = meta["machine"], meta["versions"]
    # "shared" only when other programs' CPU was measured in this run
    shared = (meta["others_cores"].get("max") or 0) >= QUIET_OTHERS_CORES
    out.append(
        (
            "Setting",
            ["what", "value"],
            [
                [
                    "machine",
                    f"{m['cores']} cores ({m['cpu_model']}), {m['memory_gb']} GB"
                    f"{', shared' if shared else ''} "
                    f"(load average before {m['load_average'][0]:.2f})",
                ],
                [
                    "versions",
                    f"Dapr {v['dapr_runtime_pinned']} (daprd {v['daprd']}), Python "
                    f"{v['python']}, dapr SDK {v['packages']['dapr']}, httpx "
                    f"{v['packages']['httpx']}, uvicorn {v['packages']['uvicorn']}",
                ],
                [
                    "other users",
                    f"median {_fmt(meta['others_cores']['median'])} cores (range "
                    f"{_fmt(meta['others_cores']['min'])}-{_fmt(meta['others_cores']['max'])})"
                    " used by other programs while the benchmark measured",
                ],
                [
                    "profile",
                    f"{meta['profile']['name']}: lateness x{meta['profile']['repeats']}, "
                    f"throughput x{meta['profile']['throughput_repeats']}, scaling "
                    f"x{meta['profile']['scaling_repeats']}; took {meta.get('duration_s')} s",
                ],
            ],
        )
    )
    out.append(
        (
            "Trigger lateness (ms, arrival at the app minus the intended instant; "
            "median of runs, range in brackets; ahead: arrived before the instant, "
            f"at most {EARLY_TOLERANCE_MS} ms is by design)",
            [
                "kind",
                "jobs",
                "mode",
                "samples",
                "p50",
                "p90",
                "p99",
                "max",
                "lost",
                "dup",
                "ahead",
                "others' cores",
                "limited by",
            ],
            [
                [
                    r["kind"],
                    str(r["concurrent_jobs"]),
                    r["mode"],
                    str(r["samples"]),
                    _fmt(r["p50"]),
                    _fmt(r["p90"]),
                    _fmt(r["p99"]),
                    _fmt(r["max"]),
                    str(r["lost"]),
                    str(r["duplicates"]),
                    str(r["ahead"]),
                    f"{r['cores']['others']:g}",
                    r["limit"],
                ]
                for r in results["lateness"]["summary"]
            ],
        )
    )
    out.append(
        (
            "Scheduling throughput and per-call latency",
            [
                "op",
                "client",
                "transport",
                "conc",
                "calls/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "limited by",
            ],
            [
                [
                    r["op"],
                    r["client"],
                    r["transport"],
                    str(r["concurrency"]),
                    _fmt(r["per_s"]),
                    _fmt(r["p50_ms"]),
                    _fmt(r["p99_ms"]),
                    str(r["errors"]),
                    r["limit"],
                ]
                for r in results["throughput"]["summary"]
            ],
        )
    )
    out.append(
        (
            "Scaling: N one-shot jobs due at the same instant (s unless stated)",
            [
                "jobs",
                "load s",
                "load jobs/s",
                "first ms",
                "all delivered",
                "delivered/s",
                "p50 ms",
                "p99 ms",
                "lost",
                "dup",
                "CPU ms/job sched/daprd/app",
                "RSS MB sched/daprd",
                "others' cores",
                "delivery limited by",
            ],
            [
                [
                    str(r["jobs"]),
                    _fmt(r["schedule_s"]),
                    _fmt(r["schedule_per_s"]),
                    _fmt(r["first_arrival_ms"]),
                    _fmt(r["all_delivered_s"]),
                    _fmt(r["deliver_per_s"]),
                    _fmt(r["lateness_p50_ms"]),
                    _fmt(r["lateness_p99_ms"]),
                    str(r["lost"]),
                    str(r["duplicates"]),
                    "/".join(f"{r['cpu_ms_per_job'][k]:g}" for k in ("scheduler", "daprd", "app")),
                    "/".join(f"{r['rss_mb_loaded'][k]:g}" for k in ("scheduler", "daprd")),
                    f"{r['deliver_cores']['others']:g}",
                    r["deliver_limit"],
                ]
                for r in results["scaling"]["summary"]
            ],
        )
    )
    if results["receivers"]:
        out.append(
            (
                "App side: the same burst into three receivers (warm connection pools)",
                [
                    "receiver",
                    "jobs",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "app CPU ms/trigger",
                    "lost",
                    "limited by",
                ],
                [
                    [
                        r["receiver"],
                        str(r["jobs"]),
                        _fmt(r["lateness_ms"].get("p50")),
                        _fmt(r["lateness_ms"].get("p99")),
                        _fmt(r["lateness_ms"].get("max")),
                        f"{r['app_cpu_ms_per_trigger']:g}",
                        str(r["lost"]),
                        r["limit"]["side"],
                    ]
                    for r in results["receivers"]
                ],
            )
        )
    out.append(
        (
            "Goals",
            ["goal", "measured", "met"],
            [
                [g["goal"], f"{_fmt(g['value'])} {g['unit']}", "yes" if g["met"] else "NO"]
                for g in results["goals"]
            ],
        )
    )
    return out


def render_text(results: dict, only: str | None = None) -> str:
    """The tables as plain text (`only`: just those whose title starts with it)."""
    lines = []
    for title, headers, rows in tables(results):
        if only and not title.startswith(only):
            continue
        widths = [
            max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
            for i, h in enumerate(headers)
        ]
        lines += ["", title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def render_markdown(results: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench` (`make bench`); the analysis is in bench/README.md.",
        "",
        f"> {results['meta']['shared_machine']}",
    ]
    for title, headers, rows in tables(results):
        lines += [
            "",
            f"## {title}",
            "",
            "| " + " | ".join(headers) + " |",
            "|" + "---|" * len(headers),
        ]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    out.with_suffix(".md").write_text(render_markdown(results))
