"""Soft sign-in throttling: a growing cool-down, never a lock an attacker can make permanent."""

import unicodedata
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


# Scripts that may share one username (as in Unicode TS #39's "highly restrictive" level):
# a Latin name with Chinese characters is fine, Latin mixed with Cyrillic or Greek is a disguise.
COMPATIBLE_SCRIPTS = frozenset({"LATIN", "CJK"})


def normalise_username(name: str | None) -> str:
    """NFKC, so full-width and other compatibility forms are the letters they look like."""
    return unicodedata.normalize("NFKC", name or "").strip()


def scripts_of(text: str) -> set[str]:
    """The scripts of the letters in ``text``, by their Unicode names (LATIN, CYRILLIC, CJK …)."""
    return {unicodedata.name(ch, "UNKNOWN").split(" ")[0] for ch in text if ch.isalpha()}


def is_mixed_script(text: str) -> bool:
    scripts = scripts_of(text)
    return len(scripts) > 1 and not scripts <= COMPATIBLE_SCRIPTS
