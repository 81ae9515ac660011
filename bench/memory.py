"""Peak memory of this process, read so that a parent's size does not count.

`getrusage().ru_maxrss` is preserved across execve(2): a child started from a big
process reports the parent's size. The kernel's VmHWM belongs to this process alone.
"""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
