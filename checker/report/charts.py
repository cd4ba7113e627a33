"""Charts as inline SVG, drawn by matplotlib (text turned into paths: no font needed to view)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

matplotlib.use("svg")
import matplotlib.pyplot as plt  # after choosing the backend

plt.rcParams.update({
    "svg.fonttype": "path",
    "svg.hashsalt": "mixite",  # stable ids: the same data give the same SVG
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
})  # fmt: skip

GREEN, RED, GREY, BLUE = "#2e7d32", "#c62828", "#9e9e9e", "#1565c0"


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog: the SVG is inlined in HTML


def _percent_axis(axis: Axes) -> None:
    axis.yaxis.set_major_formatter(lambda value, _: f"{value * 100:.0f} %")


def rate_against_target(labels: Sequence[str], rates: Sequence[float | None],
                        targets: Sequence[float | None], title: str) -> str:  # fmt: skip
    """Bars: each scope's rate, green when it meets its target, red otherwise; ticks: targets."""
    figure, axis = plt.subplots(figsize=(7, 0.45 * len(labels) + 1.2))
    positions = list(range(len(labels)))
    values = [rate or 0.0 for rate in rates]
    colors = [
        GREY if rate is None or target is None else (GREEN if rate >= target else RED)
        for rate, target in zip(rates, targets, strict=True)
    ]
    axis.barh(positions, values, color=colors)
    for position, target in zip(positions, targets, strict=True):
        if target is not None:
            axis.plot(
                [target, target], [position - 0.4, position + 0.4], color="black", linewidth=1.5
            )
    axis.set_yticks(positions, labels)
    axis.invert_yaxis()
    axis.xaxis.set_major_formatter(lambda value, _: f"{value * 100:.0f} %")
    axis.set_title(title, loc="left")
    axis.set_xlabel("taux réalisé (barre) et cible (trait noir)")
    return _svg(figure)


def trend(years: Sequence[int], rates: Sequence[float | None], targets: Sequence[float | None],
          title: str, references: Sequence[tuple[int, float]] = ()) -> str:  # fmt: skip
    figure, axis = plt.subplots(figsize=(7, 2.8))
    axis.plot(years, [r if r is not None else float("nan") for r in rates], marker="o", color=BLUE,
              label="territoire")  # fmt: skip
    axis.plot(years, [t if t is not None else float("nan") for t in targets], linestyle="--",
              color="black", label="cible")  # fmt: skip
    if references:
        axis.plot([y for y, _ in references], [v for _, v in references], marker="s", linestyle=":",
                  color=GREY, label="moyenne nationale (ANCOLS)")  # fmt: skip
    axis.set_xticks(sorted({*years, *(y for y, _ in references)}))
    _percent_axis(axis)
    axis.set_ylim(bottom=0)
    axis.legend(loc="best", frameon=False)
    axis.set_title(title, loc="left")
    return _svg(figure)
