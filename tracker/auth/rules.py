"""Soft sign-in throttling: a growing cool-down, never a lock an attacker can make permanent."""

from datetime import datetime, timedelta

FREE_ATTEMPTS = 5
MAX_COOLDOWN = timedelta(minutes=15)


def cooldown_after(failures: int) -> timedelta:
    """No wait for the first few failures, then 1, 2, 4 … minutes, capped at 15."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    minutes = 2 ** min(failures - FREE_ATTEMPTS, 10)
    return min(timedelta(minutes=minutes), MAX_COOLDOWN)


def is_throttled(throttled_until: datetime | None, now: datetime) -> bool:
    return throttled_until is not None and now < throttled_until
