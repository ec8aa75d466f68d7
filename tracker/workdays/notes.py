"""What pages say after a save when a date falls on a day off (the save itself is allowed)."""

from datetime import date

from flask import flash

from tracker.workdays import services


def warn_if_day_off(day: date | None) -> None:
    for warning in services.deadline_warnings(day):
        flash(warning["message"], "warning")
