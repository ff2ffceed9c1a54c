"""The README's picture of the droid quickstart, drawn for notebook 00: two apps, each with
its own sidecar (daprd), and the scheduler that stores the jobs and fires their triggers."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

APP, SIDECAR, CONTROL_PLANE = "#dbeafe", "#fde68a", "#d1fae5"
# name -> (x, y, label, colour); the ports are those of dapr.yaml (the lab uses free ones).
BOXES = {
    "scheduler_app": (0.0, 2.2, "job-scheduler app\n(schedules the jobs)", APP),
    "scheduler_sidecar": (0.0, 0.0, "daprd\njob-scheduler's sidecar :6380", SIDECAR),
    "service_sidecar": (4.2, 2.2, "daprd\njob-service's sidecar :6280", SIDECAR),
    "service_app": (8.4, 2.2, "job-service app :6200\n(POST /job/<name>)", APP),
    "scheduler": (
        4.2,
        0.0,
        "Dapr scheduler :50006\n(stores jobs in etcd,\nfires them when due)",
        CONTROL_PLANE,
    ),
}
WIDTH, HEIGHT = 3.0, 1.2
# (from, to, label, curvature, dashed)
ARROWS = [
    (
        "scheduler_app",
        "service_sidecar",
        "POST /v1.0/jobs/R2-D2\n(to job-service's sidecar)",
        0.0,
        False,
    ),
    ("service_sidecar", "scheduler", "schedule / get / delete\n(app ID job-service)", 0.25, False),
    ("scheduler", "service_sidecar", "trigger when due", 0.25, False),
    ("service_sidecar", "service_app", "POST /job/R2-D2", 0.0, False),
    ("scheduler_app", "scheduler_sidecar", "its own sidecar\n(not used for jobs)", 0.0, True),
]


def _anchor(name: str, towards: str) -> tuple[float, float]:
    x, y, *_ = BOXES[name]
    tx, ty, *_ = BOXES[towards]
    cx, cy = x + WIDTH / 2, y + HEIGHT / 2
    if abs(tx - x) >= abs(ty - y):
        return (x + WIDTH if tx > x else x, cy)
    return (cx, y + HEIGHT if ty > y else y)


def architecture(title: str = "The droid quickstart: who talks to whom"):
    """Draw the picture; returns the matplotlib figure."""
    fig, ax = plt.subplots(figsize=(11, 4.2))
    for x, y, label, colour in BOXES.values():
        ax.add_patch(
            FancyBboxPatch(
                (x, y), WIDTH, HEIGHT, boxstyle="round,pad=0.05", fc=colour, ec="#334155"
            )
        )
        ax.text(x + WIDTH / 2, y + HEIGHT / 2, label, ha="center", va="center", fontsize=9)
    for start, end, label, curve, dashed in ARROWS:
        a, b = _anchor(start, end), _anchor(end, start)
        if curve:  # the two arrows between a sidecar and the scheduler, side by side
            shift = 0.5 if start == "service_sidecar" else -0.5
            a, b = (a[0] + shift, a[1]), (b[0] + shift, b[1])
        ax.add_patch(
            FancyArrowPatch(
                a,
                b,
                arrowstyle="-|>",
                mutation_scale=14,
                color="#334155",
                linestyle="--" if dashed else "-",
            )
        )
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        if curve:  # beside the vertical arrows
            mx += 0.95 if start == "service_sidecar" else -0.95
        elif dashed:
            mx += 0.9
        else:  # above the boxes the arrow joins
            my += 0.95
        ax.text(mx, my, label, ha="center", va="center", fontsize=8, color="#1e293b")
    ax.set_xlim(-0.3, 11.7)
    ax.set_ylim(-0.3, 4.2)
    ax.axis("off")
    ax.set_title(title)
    fig.tight_layout()
    return fig
