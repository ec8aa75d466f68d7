from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField

from tracker.outbox import rules

KIND_LABELS = {
    rules.ASSIGNED: _l("An item is assigned to me"),
    rules.UNASSIGNED: _l("An item of mine goes to someone else"),
    rules.SUBMITTED: _l("An item is submitted for verification (待验收)"),
    rules.VERIFIED: _l("An item is verified and closed (已销号)"),
    rules.REJECTED: _l("An item is returned (退回)"),
    rules.REOPENED: _l("An item is reopened"),
    rules.CANCELLED: _l("An item is cancelled"),
    rules.DEADLINE: _l("A deadline changes"),
    rules.PROGRESS: _l("Someone adds progress or evidence"),
    rules.MENTIONED: _l("Someone mentions me (@)"),
    rules.EXTENSION_REQUESTED: _l("A deadline extension is requested (延期申请)"),
    rules.EXTENSION_DECIDED: _l("A deadline extension is approved or refused"),
}
MODE_LABELS = {
    "email": _l("In Wallchart and by email"),
    "inapp": _l("In Wallchart only"),
    "off": _l("Off"),
}


class EventPreferenceForm(FlaskForm):
    """One radio group per event kind; built from rules.KINDS."""


for _kind in rules.KINDS:
    _modes = [m for m in rules.MODES if not (m == "off" and _kind in rules.ALWAYS_IN_APP)]
    setattr(
        EventPreferenceForm,
        _kind,
        RadioField(KIND_LABELS[_kind], choices=[(m, MODE_LABELS[m]) for m in _modes], default=rules.DEFAULT_MODE),
    )
