"""Charts as SVG drawn on the server (no script): a histogram, horizontal bars, stacked bars.

Each returns the SVG's shapes as plain data for templates/charts.svg; every chart also has a table
beside it on the page, so the numbers are there for a screen reader and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 560, 220
LEFT, BOTTOM, TOP = 48, 36, 12
TIER_COLOURS = {"ready": "#1a7f37", "gaps": "#9a6700", "blocked": "#cf222e"}


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass
class Chart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # x position, label (category axis)
    marks: list[tuple[float, str]] = field(default_factory=list)  # y position, label (value axis)
    target: tuple[float, str] | None = None  # x position of a vertical target line, label
    width: float = WIDTH
    height: float = HEIGHT
    empty: bool = False
    horizontal: bool = False


def histogram(title: str, values: list[float], target: float, bucket: float = 1.0, buckets: int = 20) -> Chart:
    """Counts per `bucket` days, the last bucket open-ended; a line at the seeds' target."""
    chart = Chart(title=title, empty=not values)
    counts = [0] * buckets
    for value in values:
        counts[min(max(int(value // bucket), 0), buckets - 1)] += 1
    top = max(counts) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / buckets
    for index, count in enumerate(counts):
        height = plot_h * count / top
        label = (
            f"{index * bucket:g}-{(index + 1) * bucket:g} days: {count}"
            if index < buckets - 1
            else f"{index * bucket:g}+ days: {count}"
        )
        chart.bars.append(Bar(LEFT + index * step + 1, TOP + plot_h - height, step - 2, height, "#0969da", label))
        if index % 5 == 0:
            chart.ticks.append((LEFT + index * step, f"{index * bucket:g}"))
    # Whole counts only: a half mark appears once it is a whole number of handoffs.
    fractions = (0, 0.5, 1) if top % 2 == 0 else (0, 1)
    chart.marks = [(TOP + plot_h - plot_h * f, f"{int(top * f)}") for f in fractions]
    chart.target = (LEFT + min(target / bucket, buckets) * step, f"target {target:g} days")
    return chart


def horizontal_bars(title: str, items: list[tuple[str, float | None]], target: float | None = None) -> Chart:
    """One bar per item, 0-100 (a percentage)."""
    row = 26
    height = TOP + BOTTOM + row * max(len(items), 1)
    chart = Chart(title=title, height=height, empty=not items, horizontal=True)
    left, plot_w = 150, WIDTH - 150 - 40
    for index, (name, value) in enumerate(items):
        width = plot_w * (value or 0) / 100
        label = f"{name}: {value:g}%" if value is not None else f"{name}: no settled SLA"
        chart.bars.append(Bar(left, TOP + index * row + 3, width, row - 8, "#0969da", label))
        chart.ticks.append((TOP + index * row + row / 2 + 4, name))
    chart.marks = [(left + plot_w * f, f"{int(f * 100)}%") for f in (0, 0.5, 1)]
    if target is not None:
        chart.target = (left + plot_w * target / 100, f"target {target:g}%")
    return chart


def stacked_tiers(title: str, months: list[tuple[str, dict[str, int]]]) -> Chart:
    """One column per month, split into ready / gaps / blocked shares."""
    chart = Chart(title=title, empty=not months)
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(months), 1)
    for index, (month, tiers) in enumerate(months):
        total = sum(tiers.values()) or 1
        y: float = TOP + plot_h
        for tier in ("ready", "gaps", "blocked"):
            height = plot_h * tiers.get(tier, 0) / total
            y -= height
            label = f"{month} {tier}: {tiers.get(tier, 0)} of {sum(tiers.values())}"
            chart.bars.append(Bar(LEFT + index * step + 2, y, max(step - 4, 1), height, TIER_COLOURS[tier], label))
        chart.ticks.append((LEFT + index * step + step / 2, month))
    chart.marks = [(TOP + plot_h - plot_h * f, f"{int(f * 100)}%") for f in (0, 0.5, 1)]
    return chart
