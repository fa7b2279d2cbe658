"""Per-account call budgets shared by every worker, so workers slow down before a platform
refuses them.

A budget allows `calls` per `window` seconds for one account. It is kept in Django's cache
(Redis in production, so all processes share it; the local-memory cache in the embedded
setup) as counters for short slices of the window. Taking a call increments the current slice
and adds up the slices covering the last window; if that sum went over the budget, the call
is given back and the caller learns how long to wait. The increment is atomic, so two workers
can never both take the last call. A platform's own "come back later" (429, a reset header,
a usage header near its limit) pauses the account for every worker too.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

# Slices per window: more slices waste less of the budget at the window's edge, at the cost
# of reading more keys per call.
SLICES = 12


@dataclass(frozen=True)
class Allowance:
    calls: int
    window_seconds: float


def platform_allowance(platform: str) -> Allowance | None:
    """Return the configured budget of one account on `platform` (None: unlimited)."""
    configured = settings.PLATFORM_RATE_BUDGETS.get(platform)
    if configured is None:
        return None
    calls, window = configured
    return Allowance(calls=calls, window_seconds=window * settings.PLATFORM_RATE_WINDOW_SCALE)


class AccountBudget:
    """The call budget of one platform account, in the cache under `prefix`."""

    def __init__(
        self, *, account_key: str, allowance: Allowance | None, prefix: str | None = None
    ) -> None:
        self.allowance = allowance
        self.cache = caches[settings.PLATFORM_BUDGET_CACHE]
        self.key = f"{prefix or settings.PLATFORM_BUDGET_KEY_PREFIX}:{account_key}"

    def take(self, *, now: float) -> float:
        """Take one call; return 0 if it was taken, else the seconds to wait before asking again."""
        paused = self._paused_for(now)
        if paused > 0:
            return paused
        if self.allowance is None:
            return 0.0
        slice_seconds = self.allowance.window_seconds / SLICES
        current = math.floor(now / slice_seconds)
        # The slices of the last window plus the one it starts in: a window that begins
        # inside a slice is covered whole, so the budget holds over any window, not only
        # over aligned ones.
        earlier = [self._slice_key(index) for index in range(current - SLICES, current)]
        taken = self._increment(
            self._slice_key(current), ttl=self.allowance.window_seconds + 2 * slice_seconds
        )
        used = taken + sum(value for value in self.cache.get_many(earlier).values())
        if used <= self.allowance.calls:
            return 0.0
        # Over budget (perhaps only because of concurrent takers): give the call back and
        # ask again when the oldest slice has left the window.
        self.cache.decr(self._slice_key(current))
        return (current + 1) * slice_seconds - now

    def pause(self, *, seconds: float, now: float) -> None:
        """Make every worker wait `seconds` before the next call (the platform asked)."""
        until = now + seconds
        if until > (self.cache.get(self._pause_key()) or 0):
            self.cache.set(self._pause_key(), until, timeout=math.ceil(seconds) + 1)

    def _paused_for(self, now: float) -> float:
        return max(0.0, (self.cache.get(self._pause_key()) or 0) - now)

    def _increment(self, key: str, *, ttl: float) -> int:
        for _ in range(3):
            self.cache.add(key, 0, timeout=math.ceil(ttl))
            try:
                return self.cache.incr(key)
            except ValueError:  # the key expired between add and incr: create it again
                continue
        raise RuntimeError(f"Could not count a call in {key}.")

    def _slice_key(self, index: int) -> str:
        return f"{self.key}:{index}"

    def _pause_key(self) -> str:
        return f"{self.key}:paused-until"
