"""Geometry for the wall chart's server-rendered SVG charts; the templates draw and label them."""

from dataclasses import dataclass, field
from datetime import date

from tracker.board.services import BurndownDay, GroupTally

SEGMENTS = ("closed", "submitted", "in_progress", "open")


@dataclass
class Bar:
    code: str
    y: float
    percent_closed: int
    segments: list[tuple[str, float, float]]  # (status, x, width)


@dataclass
class ProgressChart:
    width: int
    height: int
    label_width: int
    bar_width: int
    row: int
    bars: list[Bar] = field(default_factory=list)


def progress_chart(groups: list[GroupTally], bar_width: int = 460, row: int = 26) -> ProgressChart:
    """One stacked bar per group: closed, awaiting verification, in progress, not started."""
    label_width = 70
    chart = ProgressChart(
        width=label_width + bar_width + 60,
        height=max(row * len(groups), row),
        label_width=label_width,
        bar_width=bar_width,
        row=row,
    )
    for index, group in enumerate(groups):
        x = float(label_width)
        segments = []
        for status in SEGMENTS:
            share = group.counts[status] / group.total if group.total else 0
            width = round(share * bar_width, 1)
            if width > 0:
                segments.append((status, round(x, 1), width))
            x += width
        chart.bars.append(Bar(group.code, index * row, group.percent_closed, segments))
    return chart


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class BurndownChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    actual: str  # SVG polyline points
    ideal: str
    y_ticks: list[Tick]
    x_ticks: list[tuple[float, date, str]]  # x, day, text-anchor
    today_x: float | None
    top_value: int


def burndown_chart(days: list[BurndownDay], today: date, opening: date) -> BurndownChart | None:
    if not days:
        return None
    left, top, plot_width, plot_height = 48, 12, 560, 200
    values = [d.open_items for d in days if d.open_items is not None] + [d.ideal for d in days if d.ideal is not None]
    top_value = max(1, int(max(values) + 0.999))
    span = max(len(days) - 1, 1)

    def x_of(index: int) -> float:
        return round(left + plot_width * index / span, 1)

    def y_of(value: float) -> float:
        return round(top + plot_height * (1 - value / top_value), 1)

    actual = " ".join(f"{x_of(i)},{y_of(d.open_items)}" for i, d in enumerate(days) if d.open_items is not None)
    ideal = " ".join(f"{x_of(i)},{y_of(d.ideal)}" for i, d in enumerate(days) if d.ideal is not None)
    index_of = {d.day: i for i, d in enumerate(days)}
    marks = [(x_of(index_of[d]), d) for d in dict.fromkeys([today, opening, days[0].day]) if d in index_of]
    x_ticks = _spaced(marks, left, left + plot_width)
    y_ticks = [Tick(y_of(v), str(v)) for v in sorted({0, top_value // 2, top_value})]
    return BurndownChart(
        width=left + plot_width + 24,
        height=top + plot_height + 40,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        actual=actual,
        ideal=ideal,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        today_x=x_of(index_of[today]) if today in index_of else None,
        top_value=top_value,
    )


DATE_LABEL_WIDTH = 110  # a long date label ("2026年11月29日", "29 Nov 2026") in viewBox units


def _spaced(marks: list[tuple[float, date]], start: float, end: float) -> list[tuple[float, date, str]]:
    """Date labels that do not overlap: in order of ``marks`` (most wanted first), each kept only
    clear of those already kept; anchored so that none runs off either edge."""
    kept: list[tuple[float, date]] = []
    for x, day in marks:
        if all(abs(x - other) >= DATE_LABEL_WIDTH for other, _ in kept):
            kept.append((x, day))

    def anchor(x: float) -> str:
        if x - start < DATE_LABEL_WIDTH / 2:
            return "start"
        return "end" if end - x < DATE_LABEL_WIDTH / 2 else "middle"

    return [(x, day, anchor(x)) for x, day in sorted(kept)]


def weekly_rows(days: list[BurndownDay], today: date) -> list[BurndownDay]:
    """The chart's data table: one row a week (and today), so it stays short enough to read."""
    rows = [d for i, d in enumerate(days) if i % 7 == 0 or d.day == today]
    if days and rows[-1] is not days[-1]:
        rows.append(days[-1])
    return rows
