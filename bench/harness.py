"""Pairs of runs, measured and baseline alternated, and the table of ratios.

The machine is shared and noisy, so one run proves little: every figure here
is the median of at least five ratios, each of a measured run and the
baseline run right after it, with the spread (lowest and highest ratio).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MIN_PAIRS = 5


@dataclass(frozen=True)
class Figure:
    name: str
    measured: list[float]
    baseline: list[float]
    target: float
    higher_is_better: bool = True
    # An absolute figure is judged by its median measured value, not a ratio
    # (event-loop lag has no meaningful baseline to divide by).
    absolute: bool = False

    @property
    def ratios(self) -> list[float]:
        return [m / b for m, b in zip(self.measured, self.baseline, strict=True)]

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def judged(self) -> float:
        if self.absolute:
            return statistics.median(self.measured)
        return self.median_ratio

    @property
    def met(self) -> bool:
        if self.higher_is_better:
            return self.judged >= self.target
        return self.judged <= self.target


async def alternate(
    measured: Callable[[], Awaitable[float]],
    baseline: Callable[[], Awaitable[float]],
    pairs: int = MIN_PAIRS,
) -> tuple[list[float], list[float]]:
    """Run measured then baseline, ``pairs`` times, and keep both series."""
    measured_runs: list[float] = []
    baseline_runs: list[float] = []
    for _ in range(max(pairs, MIN_PAIRS)):
        measured_runs.append(await measured())
        baseline_runs.append(await baseline())
    return measured_runs, baseline_runs


def render(figures: list[Figure]) -> str:
    header = (
        f"{'figure':<44} {'measured':>10} {'baseline':>10} "
        f"{'ratio':>6} {'spread':>13} {'target':>8}  met"
    )
    lines = [header, "-" * len(header)]
    for figure in figures:
        ratios = figure.ratios
        sign = ">=" if figure.higher_is_better else "<="
        lines.append(
            f"{figure.name:<44} "
            f"{statistics.median(figure.measured):>10.1f} "
            f"{statistics.median(figure.baseline):>10.1f} "
            f"{figure.median_ratio:>6.2f} "
            f"{min(ratios):>6.2f}-{max(ratios):<6.2f} "
            f"{sign}{figure.target:>6.2f}{'*' if figure.absolute else ' '} "
            f"{'yes' if figure.met else 'NO'}"
        )
    return "\n".join(lines)


def report(figures: list[Figure]) -> None:
    note = "* judged on the measured value itself, not the ratio"
    sys.stdout.write(render(figures) + "\n" + note + "\n")
