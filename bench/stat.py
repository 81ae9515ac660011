"""The machine's CPU time from /proc/stat: every process, the database and fakes included."""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


class MachineCpu:
    """CPU used machine-wide since this object was made."""

    def __init__(self) -> None:
        self.busy, self.total = _ticks()

    def busy_share(self) -> float:
        """Busy ticks over all ticks (1.0: every core busy throughout)."""
        busy, total = _ticks()
        return (busy - self.busy) / max(1, total - self.total)

    def busy_s(self) -> float:
        """CPU-seconds used by all processes, summed over the cores."""
        busy, _total = _ticks()
        return (busy - self.busy) / TICKS_PER_S
