"""The provider's rate limit, one budget per send shared by every process sending it.

A token bucket kept in the database (`rate_budgets`): each reservation is one UPDATE that
refills the bucket for the time gone by, takes the recipients about to be sent, and
returns the new level. A level below zero is a debt the caller sleeps off before sending,
so any number of processes together stay at `provider.rate_per_s` recipients a second.
The refill uses each machine's clock; hosts sharing a send keep their clocks in sync (NTP).
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from pipeline.db import rate_budgets


class RateBudget:
    def __init__(self, engine: sa.Engine, issue_id: int, rate_per_s: float):
        self.engine = engine
        self.issue_id = issue_id
        self.rate_per_s = rate_per_s
        # One second's worth may go out at once after a pause, never more.
        self.burst = rate_per_s
        # Taken from the shared budget ahead, at most a twentieth of a second's worth, so
        # fast sends do not pay a database round trip per call.
        self.chunk = int(rate_per_s / 20)
        self.allowance = 0

    def take_allowance(self, recipients: int) -> bool:
        """Take from what this process reserved ahead; False when it has not enough."""
        if self.allowance < recipients:
            return False
        self.allowance -= recipients
        return True

    def reserve(self, recipients: int) -> tuple[float, int]:
        """Take `recipients` (or a twentieth of a second's worth, if more) from the shared
        budget; returns the seconds to wait first, and the extra for `add_allowance`."""
        taken = max(recipients, self.chunk)
        return self._take(taken), taken - recipients

    def add_allowance(self, extra: int) -> None:
        self.allowance += extra

    def _take(self, recipients: int) -> float:
        at = time.time()
        table = rate_budgets
        elapsed = sa.case((table.c.refilled_at < at, at - table.c.refilled_at), else_=0.0)
        refilled = table.c.tokens + elapsed * self.rate_per_s
        capped = sa.case((refilled > self.burst, self.burst), else_=refilled)
        with self.engine.begin() as connection:
            level = connection.execute(
                sa.update(table)
                .where(table.c.issue_id == self.issue_id)
                .values(
                    tokens=capped - recipients,
                    refilled_at=sa.case((table.c.refilled_at < at, at), else_=table.c.refilled_at),
                )
                .returning(table.c.tokens)
            ).scalar()
            if level is None:
                level = self._open(connection, at, recipients)
        return max(0.0, -float(level)) / self.rate_per_s

    def _open(self, connection: sa.Connection, at: float, recipients: int) -> float:
        """The send's first reservation creates its bucket, full."""
        level = self.burst - recipients
        try:
            with connection.begin_nested():
                connection.execute(
                    sa.insert(rate_budgets).values(
                        issue_id=self.issue_id, tokens=level, refilled_at=at
                    )
                )
        except sa.exc.IntegrityError:
            # Another process opened it at the same moment: take from theirs.
            return float(
                connection.execute(
                    sa.update(rate_budgets)
                    .where(rate_budgets.c.issue_id == self.issue_id)
                    .values(tokens=rate_budgets.c.tokens - recipients)
                    .returning(rate_budgets.c.tokens)
                ).scalar_one()
            )
        return level
