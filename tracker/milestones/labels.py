"""Translated names of the milestone kinds."""

from flask_babel import lazy_gettext as _l

MILESTONE_KIND = {
    "countdown": _l("Countdown"),
    "rehearsal": _l("Rehearsal or drill"),
    "test_event": _l("Test event"),
    "ceremony": _l("Ceremony"),
    "handover": _l("Handover"),
}
