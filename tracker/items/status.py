"""The derived state of an item as seen today: light and overdue, with configured thresholds."""

from datetime import date

from flask import current_app

from tracker.clock import local_date
from tracker.event.services import event_timezone
from tracker.items import rules
from tracker.items.models import Item


def thresholds() -> rules.LightThresholds:
    config = current_app.config
    return rules.LightThresholds(
        red_lag=config["LIGHT_RED_LAG"],
        amber_lag=config["LIGHT_AMBER_LAG"],
        amber_days=config["LIGHT_AMBER_DAYS"],
    )


def item_light(item: Item, today: date) -> str:
    issued = local_date(item.created_at, event_timezone())
    return rules.light(item.status, item.progress, issued, item.deadline, today, thresholds())
