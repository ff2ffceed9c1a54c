"""Pictures for the notebooks: when triggers were expected and when they arrived."""

from __future__ import annotations

import matplotlib.pyplot as plt

STATUS_COLOURS = {200: "tab:green", 404: "tab:orange"}


def trigger_timeline(
    rows: dict[str, list[dict]],
    *,
    t0: float,
    expected: dict[str, list[float]] | None = None,
    title: str = "",
):
    """One row per label: each trigger's arrival (seconds after t0) as a dot coloured by the
    app's answer, and the expected fire times as grey ticks."""
    labels = list(rows)
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(labels) + 1.4))
    for y, label in enumerate(labels):
        for when in (expected or {}).get(label, []):
            ax.plot([when - t0] * 2, [y - 0.3, y + 0.3], color="0.6", lw=1.5)
        for trigger in rows[label]:
            colour = STATUS_COLOURS.get(trigger.get("status"), "tab:red")
            ax.plot(trigger["received_at"] - t0, y, "o", color=colour, ms=7)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the jobs were scheduled")
    ax.grid(axis="x", alpha=0.3)
    handles = [
        plt.Line2D([], [], color="tab:green", marker="o", ls="", label="app answered 200"),
        plt.Line2D([], [], color="tab:red", marker="o", ls="", label="app answered 4xx/5xx"),
    ]
    if expected:
        handles.append(plt.Line2D([], [], color="0.6", lw=1.5, label="expected fire time"))
    ax.legend(
        handles=handles,
        loc="upper center",
        ncol=3,
        frameon=False,
        bbox_to_anchor=(0.5, -0.6 / (0.55 * len(labels) + 1.4) - 0.08),
    )
    ax.set_title(title)
    fig.tight_layout()
    return fig
