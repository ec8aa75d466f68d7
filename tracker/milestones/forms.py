from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.milestones import labels
from tracker.routing import parse_id

DATE_MODES = [("relative", _l("Relative to opening day (moves with it)")), ("fixed", _l("Fixed date"))]


class MilestoneForm(FlaskForm):
    title = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[Length(max=200)])
    kind = SelectField(_l("Kind"), choices=list(labels.MILESTONE_KIND.items()))
    date_mode = SelectField(_l("Date"), choices=DATE_MODES, default="relative")
    offset_days = IntegerField(
        _l("Days from opening day (T-30 is -30)"), validators=[Optional(), NumberRange(-3650, 3650)]
    )
    fixed_date = DateField(_l("Fixed date"), validators=[Optional()])
    group_id = SelectField(_l("Work group (optional)"), coerce=parse_id, validate_choice=False)

    def milestone_data(self) -> dict:
        return {
            "title": self.title.data,
            "title_en": self.title_en.data or "",
            "kind": self.kind.data,
            "offset_days": self.offset_days.data if self.date_mode.data == "relative" else None,
            "fixed_date": self.fixed_date.data if self.date_mode.data == "fixed" else None,
            "group_id": self.group_id.data,
            "date_mode": self.date_mode.data,
        }
