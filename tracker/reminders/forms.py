from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Regexp

DIGEST_CHOICES = [
    ("both", _l("Single reminders and the daily digest")),
    ("digest", _l("Only the daily digest, instead of single reminders")),
    ("singles", _l("Only single reminders, no digest")),
]


class PreferenceForm(FlaskForm):
    email_enabled = BooleanField(_l("Also send my reminders by email"))
    digest_mode = RadioField(_l("What to receive"), choices=DIGEST_CHOICES, default="both")


class ReminderSettingsForm(FlaskForm):
    owner_days = StringField(
        _l("Remind the owner this many days before the deadline"),
        validators=[DataRequired(), Length(max=60)],
    )
    lead_overdue_days = IntegerField(
        _l("Escalate to the group's leads after this many days overdue"), validators=[NumberRange(0, 365)]
    )
    committee_overdue_days = IntegerField(
        _l("Escalate to the committee after this many days overdue"), validators=[NumberRange(0, 365)]
    )
    milestone_days = StringField(
        _l("Remind about a milestone this many days before it"), validators=[DataRequired(), Length(max=60)]
    )
    count_working_days = BooleanField(_l("Count these days in working days (holidays and 调休 included)"))
    day_off_shift = RadioField(
        _l("A reminder that falls on a day off is sent"),
        choices=[
            ("before", _l("on the last working day before it")),
            ("on", _l("on the day itself")),
            ("after", _l("on the next working day")),
        ],
        default="on",
    )
    digest_time = StringField(
        _l("Daily digest at (event local time)"),
        validators=[DataRequired(), Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message=_l("A time like 08:30."))],
    )
    digest_window_days = IntegerField(_l("The digest lists items due within (days)"), validators=[NumberRange(1, 90)])
    webhook_hosts = TextAreaField(_l("Chat robot hosts allowed (one per line)"), validators=[Length(max=2000)])
    max_attempts = IntegerField(_l("Delivery attempts before giving up"), validators=[NumberRange(1, 20)])
    retry_base_seconds = IntegerField(
        _l("First retry after (seconds; doubles each time)"), validators=[NumberRange(10, 3600)]
    )
