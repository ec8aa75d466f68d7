from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.notices import labels
from tracker.notices.services import TEXT_LIMIT
from tracker.routing import parse_id

TEXT = [DataRequired(), Length(max=TEXT_LIMIT)]


class IssueForm(FlaskForm):
    level = RadioField(_l("Level"), choices=list(labels.LEVEL.items()), default="blue", validators=[InputRequired()])
    text = TextAreaField(_l("Requirement (督办要求)"), validators=TEXT)
    reply_by = DateField(_l("Reply by"), validators=[InputRequired()])
    # Other items of the same group to put under the same requirement (one notice each).
    item_ids = SelectMultipleField(_l("Also issue on these items of the group"), coerce=parse_id, validate_choice=False)


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("Reply: what was done (回复)"), validators=TEXT)
    plan = TextAreaField(_l("New plan (optional)"), validators=[Optional(), Length(max=TEXT_LIMIT)])
    files = MultipleFileField(_l("Evidence files (photos, PDF, Office)"))


class CloseForm(FlaskForm):
    note = TextAreaField(_l("Closing note (办结意见)"), validators=TEXT)


class EscalateForm(FlaskForm):
    text = TextAreaField(_l("Requirement at the next level"), validators=TEXT)
    reply_by = DateField(_l("Reply by"), validators=[InputRequired()])


class InterviewForm(FlaskForm):
    on = DateField(_l("Interview date"), validators=[InputRequired()])
    participants = TextAreaField(_l("Participants"), validators=TEXT)
    conclusion = TextAreaField(_l("Conclusion"), validators=TEXT)


class SuggestionsForm(FlaskForm):
    item_ids = SelectMultipleField(_l("Suggested items"), coerce=parse_id, validate_choice=False)
    text = TextAreaField(
        _l("Requirement (leave empty for the standard wording of each level)"),
        validators=[Optional(), Length(max=TEXT_LIMIT)],
    )


def _days(label, low, high):
    return IntegerField(label, validators=[InputRequired(), NumberRange(low, high)])


class RulesForm(FlaskForm):
    blue_due_days = _days(_l("Blue: due within (days)"), 0, 60)
    blue_lag = _days(_l("Blue: lagging by at least (percentage points)"), 0, 100)
    orange_overdue_days = _days(_l("Orange: overdue by at least (days)"), 0, 365)
    red_overdue_days = _days(_l("Red: overdue by at least (days)"), 0, 365)
    red_after_oranges = _days(_l("Red: at the n-th orange notice on an item"), 1, 10)
    reply_days = _days(_l("Reply within (days) for suggested notices"), 0, 60)
    lead_after_days = _days(_l("No reply: remind the group's leads after (days)"), 0, 60)
    committee_after_days = _days(_l("No reply: escalate to the committee after (days)"), 0, 60)
    auto_issue = BooleanField(_l("Issue the suggested notices automatically (at each reminder sweep)"))
