from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker.exercises.services import LIMITS
from tracker.routing import parse_id

KIND_LABELS = {
    "drill": _l("Drill"),
    "test_event": _l("Test event"),
    "rehearsal": _l("Rehearsal"),
    "inspection": _l("Inspection"),
    "user_acceptance": _l("User acceptance (使用者验收)"),
}
RESULT_LABELS = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("Not applicable")}


class ExerciseForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=LIMITS["title"])])
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[Length(max=LIMITS["venue"])])
    group_id = SelectField(_l("Responsible work group"), coerce=parse_id, validate_choice=False)
    milestone_id = SelectField(_l("Milestone (optional)"), coerce=parse_id, validate_choice=False)
    template_id = SelectField(_l("Checklist"), coerce=parse_id, validate_choice=False)
    participants = TextAreaField(
        _l("Participants"),
        description=_l(
            'One a line: "name, role". Testers need no account; "@username" invites an account to record results.'
        ),
        validators=[Length(max=5000)],
    )

    def exercise_data(self, parse_participants) -> dict:
        return {
            "kind": self.kind.data,
            "title": self.title.data,
            "held_on": self.held_on.data,
            "venue": self.venue.data or "",
            "group_id": self.group_id.data,
            "milestone_id": self.milestone_id.data,
            "template_id": self.template_id.data,
            "participants": parse_participants(self.participants.data),
        }
