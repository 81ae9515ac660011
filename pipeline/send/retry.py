"""How long to wait before trying a provider call again.

Exponential backoff with full jitter (so workers hit by the same outage do not come back
in step), and never sooner than the provider's Retry-After.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 60.0

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        """Seconds to wait after the `attempt`-th call (1-based) failed retryably."""
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        jittered = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
        if retry_after_s is None:
            return jittered
        # A little spread on top, so every worker told "1 s" does not return at once.
        return retry_after_s + random.uniform(0, min(1.0, 0.1 * retry_after_s + 0.05))  # noqa: S311
