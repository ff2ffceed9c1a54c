"""A seconds-long run of `python -m bench.run --smoke` against the real runtime: checks
that the measurement itself is sound (every job counted, none lost, none early beyond the
scheduler's 0.5 ms, finite figures, everything deleted) and that the JSON has the shape the
notebook and README rely on."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from bench import run as bench
from bench.summary import QUIET_OTHERS_CORES
from workbook.config import ROOT


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(out.read_text()), run.stdout


def finite_and_ordered(d: dict) -> None:
    values = [d[k] for k in ("min", "p50", "p90", "p99", "max")]
    assert all(math.isfinite(v) for v in values), d
    assert values == sorted(values), d


def test_json_shape(smoke):
    results, _ = smoke
    assert set(results) >= {
        "meta",
        "lateness",
        "throughput",
        "scaling",
        "burst",
        "receivers",
        "checks",
        "goals",
    }
    meta = results["meta"]
    assert meta["machine"]["cores"] >= 1
    assert meta["versions"]["dapr_runtime_pinned"] == "1.18.3"
    assert meta["versions"]["daprd"] == "1.18.3"
    assert meta["versions"]["python"].count(".") == 2
    assert meta["profile"]["name"] == "smoke"
    assert results["lateness"]["histogram_edges_ms"] == bench.HIST_EDGES_MS
    assert all({"goal", "value", "unit", "met"} <= set(g) for g in results["goals"])


def test_every_trigger_is_counted_once_and_never_early(smoke):
    results, _ = smoke
    cases = results["lateness"]["runs"][0]
    assert {(c["kind"], c["concurrent_jobs"], c["mode"]) for c in cases} == {
        ("oneshot", 1, "one-at-a-time"),
        ("oneshot", 20, "aligned"),
        ("oneshot", 20, "spread"),
        ("every", 1, "one-at-a-time"),
        ("every", 20, "aligned"),
        ("every", 20, "spread"),
    }
    for case in cases:
        name = f"{case['kind']} {case['concurrent_jobs']} {case['mode']}"
        assert case["complete"], name
        assert case["delivered"] == case["expected"] == case["lateness_ms"]["n"], name
        assert (case["lost"], case["duplicates"], case["strays"], case["early"]) == (0, 0, 0, 0)
        # never early beyond the 0.5 ms the scheduler's queue allows by design
        assert case["lateness_ms"]["min"] >= -bench.EARLY_TOLERANCE_MS, name
        finite_and_ordered(case["lateness_ms"])
        assert sum(case["histogram"]) == case["expected"], name
    [cold] = results["lateness"]["cold_pool"]  # the first burst on the new sidecar
    assert (cold["mode"], cold["concurrent_jobs"], cold["lost"]) == ("aligned, cold", 20, 0)
    assert cold["delivered"] == cold["expected"] == 20
    every = [c for c in cases if c["kind"] == "every" and c["concurrent_jobs"] == 20]
    assert all(c["expected"] == 20 * 2 for c in every)  # 20 jobs x 2 repeats each


def test_burst_delivers_every_job(smoke):
    results, _ = smoke
    points = results["scaling"]["runs"][0]
    assert [p["jobs"] for p in points] == [50, 200]
    for point in points:
        assert point["complete"]
        assert point["schedule_errors"] == 0
        assert point["delivered"] == point["jobs"] == point["lateness_ms"]["n"]
        assert (point["lost"], point["duplicates"], point["early"]) == (0, 0, 0)
        finite_and_ordered(point["lateness_ms"])
        early_s = bench.EARLY_TOLERANCE_MS / 1000
        assert -early_s <= point["first_arrival_s"] <= point["all_delivered_s"] < 30
        assert point["curve"][-1][1] == point["jobs"]
        cpu = point["cpu_ms_per_job"]  # /proc counts in 10 ms ticks: the app may show 0
        assert cpu["scheduler"] + cpu["daprd"] > 0
        # the raw receiver spends about 0.03 ms per trigger; NaN (an unread /proc) fails too
        assert 0 <= cpu["app"] < 1, cpu
    assert results["burst"]["jobs"] == 200
    assert results["burst"]["lost"] == 0


def test_every_call_succeeds_and_is_timed(smoke):
    results, _ = smoke
    rows = results["throughput"]["runs"][0]
    assert {(r["op"], r["transport"]) for r in rows} == {
        (op, t) for op in ("POST", "GET", "DELETE") for t in ("HTTP", "gRPC")
    }
    for row in rows:
        assert row["errors"] == 0, row
        assert row["n"] in (20, 40)
        assert row["per_s"] > 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]


def test_nothing_is_left_behind(smoke):
    results, stdout = smoke
    [check] = results["checks"]
    assert check["jobs_made"] > 0
    assert check["jobs_left_in_sample"] == 0
    assert check["log_errors"] == {"daprd": 0, "scheduler": 0}
    assert "Trigger lateness" in stdout
    assert "wrote" in stdout


def test_every_sentence_follows_the_measured_figures(smoke):
    results, _ = smoke
    meta = results["meta"]
    others = meta["others_cores"]
    sentence = meta["shared_machine"]
    if others["max"] < QUIET_OTHERS_CORES:
        assert sentence.startswith("Other programs used no measurable CPU"), sentence
    else:
        assert f"a median of {others['median']:g} of the" in sentence, sentence
    settings = meta["settings"]
    assert "--workers 2048 (the default `scheduler --help` states)" in settings["scheduler"]
    assert "--enable-metrics false (set on its command line)" in settings["sidecar"]
    assert "comparison" not in settings["receiver"]  # the smoke run compares no receivers
