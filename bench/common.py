"""Shared pieces of the benchmarks: a result row, timing helpers and the table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One line of the table: what we measured, against whom, and the target."""

    name: str
    ours: float
    peer: float
    unit: str
    peer_name: str
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float:
        return self.ours / self.peer if self.peer else float("inf")


def median_seconds(fn: Callable[[], object], *, repeat: int = 3) -> float:
    """Median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_call_us(fn: Callable[[], object], *, number: int, repeat: int = 7) -> float:
    """Median over ``repeat`` batches of the time of one call, in microseconds."""
    batches = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        batches.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(batches)


def print_table(rows: list[Row]) -> None:
    head = f"{'measurement':52} {'ours':>11} {'peer':>11} {'ratio':>7}  {'target':10} {'met':4} peer"
    print(head)
    print("-" * len(head))
    for r in rows:
        met = "" if r.ok is None else ("yes" if r.ok else "NO")
        print(f"{r.name:52} {r.ours:>9.3g}{r.unit:>2} {r.peer:>9.3g}{r.unit:>2} {r.ratio:>7.3f}  {r.target:10} {met:4} "
              f"{r.peer_name}")
