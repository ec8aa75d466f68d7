"""Pure rules for checklists: parse a pass rule such as "≤ 1:12" or "≥ 0.80 m" and judge a value."""

import re
from dataclasses import dataclass
from fractions import Fraction

OPERATORS = {
    "≤": lambda a, b: a <= b,
    "<=": lambda a, b: a <= b,
    "≥": lambda a, b: a >= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "=": lambda a, b: a == b,
}
_NUMBER = r"(\d+(?:\.\d+)?)(?:\s*[:：]\s*(\d+(?:\.\d+)?))?"
_RULE = re.compile(r"^\s*(≤|<=|≥|>=|<|>|=)\s*" + _NUMBER + r"\s*([^\d\s].*)?$")
_VALUE = re.compile(r"^\s*" + _NUMBER + r"\s*([^\d\s].*)?$")


@dataclass(frozen=True)
class Rule:
    operator: str
    limit: Fraction
    unit: str


def _number(whole: str, ratio: str | None) -> Fraction | None:
    value = Fraction(whole)
    if ratio is None:
        return value
    below = Fraction(ratio)
    return None if below == 0 else value / below


def parse_rule(text: str) -> Rule | None:
    """``"≤ 1:12"`` → Rule("≤", 1/12, ""); None when the text is not a rule."""
    match = _RULE.match(text or "")
    if not match:
        return None
    limit = _number(match.group(2), match.group(3))
    if limit is None:
        return None
    return Rule(match.group(1), limit, (match.group(4) or "").strip())


def parse_value(text: str) -> Fraction | None:
    """A measured value: a number ("0.85", "0.85 m") or a ratio ("1:15"); None when unreadable."""
    match = _VALUE.match(text or "")
    if not match:
        return None
    return _number(match.group(1), match.group(2))


def judge(rule_text: str, value_text: str) -> str | None:
    """ "pass" or "fail" for a measured value against the point's rule; None when either is missing."""
    rule, value = parse_rule(rule_text), parse_value(value_text)
    if rule is None or value is None:
        return None
    return "pass" if OPERATORS[rule.operator](value, rule.limit) else "fail"


def closed_share(closed: int, total: int) -> int | None:
    """Whole per cent of findings closed (rounded down, so 89.9 % never shows as 90 %)."""
    if total <= 0:
        return None
    return closed * 100 // total


def count_results(results: list[str | None]) -> dict:
    """Answers tallied as {"pass", "fail", "na", "open"} (open = not answered yet)."""
    counts = {"pass": 0, "fail": 0, "na": 0, "open": 0}
    for result in results:
        counts[result if result in counts else "open"] += 1
    return counts
