"""Pictures for the notebooks: when triggers were expected and when they arrived, and how the
deliveries of a failing job are spaced."""

from __future__ import annotations

import matplotlib.pyplot as plt

# What the app's answer means to Dapr, which is what the colour shows.
DELIVERED, NOT_RETRIED, RETRIED = "tab:green", "tab:purple", "tab:red"
STATUS_LEGEND = {
    DELIVERED: "app answered 2xx: delivered",
    NOT_RETRIED: "app answered 404: failed, not retried",
    RETRIED: "app answered another error: up to the failure policy",
}
# Deliveries closer together than this draw as one dot, so they are stacked instead.
SAME_INSTANT = 0.12


def status_colour(status: int | None) -> str:
    if status is not None and 200 <= status < 300:
        return DELIVERED
    if status == 404:
        return NOT_RETRIED
    return RETRIED


def _legend(ax, colours: list[str], extra: list | None = None) -> None:
    """The legend below the plot, a fixed distance under the axis labels."""
    handles = [
        plt.Line2D([], [], color=colour, marker="o", ls="", label=STATUS_LEGEND[colour])
        for colour in STATUS_LEGEND
        if colour in colours
    ] + (extra or [])
    fig = ax.figure
    fig.legend(handles=handles, loc="lower center", ncol=min(3, len(handles)), frameon=False)
    fig.tight_layout(rect=(0, 0.45 / fig.get_figheight(), 1, 1))


def trigger_timeline(
    rows: dict[str, list[dict]],
    *,
    t0: float,
    expected: dict[str, list[float]] | None = None,
    title: str = "",
    ax=None,
):
    """One row per label: each trigger's arrival (seconds after t0) as a dot coloured by the
    app's answer, and the expected fire times as grey ticks."""
    labels = list(rows)
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 0.55 * len(labels) + 1.6))
    fig = ax.figure
    colours = []
    for y, label in enumerate(labels):
        for when in (expected or {}).get(label, []):
            ax.plot([when - t0] * 2, [y - 0.3, y + 0.3], color="0.6", lw=1.5)
        for trigger in rows[label]:
            colours.append(status_colour(trigger.get("status")))
            ax.plot(trigger["received_at"] - t0, y, "o", color=colours[-1], ms=7)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel("seconds since the jobs were scheduled")
    ax.grid(axis="x", alpha=0.3)
    extra = []
    if expected:
        extra.append(plt.Line2D([], [], color="0.6", lw=1.5, label="expected fire time"))
    ax.set_xlim(left=min(-0.15, ax.get_xlim()[0]))
    ax.set_title(title)
    _legend(ax, colours or [DELIVERED], extra)
    return fig


def _bursts(times: list[float]) -> list[list[int]]:
    """Indexes of deliveries grouped by 'arrived at practically the same instant'."""
    groups: list[list[int]] = []
    for index, when in enumerate(times):
        if groups and when - times[groups[-1][-1]] < SAME_INSTANT:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def delivery_timeline(results: dict[str, list[dict]], title: str = ""):
    """One row per case: every delivery (seconds after the case's first), coloured by what the
    answer means to Dapr. Deliveries that came back to back are stacked and counted, so three
    deliveries at one instant never look like one."""
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(results) + 1.6))
    colours = []
    for row, got in enumerate(results.values()):
        if not got:
            continue
        start = got[0]["at"]
        times = [d["at"] - start for d in got]
        for group in _bursts(times):
            for height, index in enumerate(group):
                colours.append(status_colour(got[index]["status"]))
                offset = 0.22 * (height - (len(group) - 1) / 2)
                ax.plot(times[index], row + offset, "o", color=colours[-1], ms=7)
            if len(group) > 1:
                ax.annotate(
                    f"×{len(group)}",
                    (times[group[0]], row),
                    xytext=(9, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=9,
                )
    ax.set_yticks(range(len(results)), list(results))
    ax.set_ylim(len(results) - 0.5, -0.5)
    ax.set_xlabel("seconds after the first delivery (×N: N deliveries at the same instant)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title)
    _legend(ax, colours)
    return fig
