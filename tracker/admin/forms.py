from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from tracker.auth.models import ROLES

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "committee": _l("Committee reviewer"),
    "lead": _l("Work-group lead"),
    "member": _l("Member (responsible person)"),
    "external": _l("Third-party team member"),
}
WEBHOOK_FORMATS = [
    ("generic", _l("Generic JSON")),
    ("wecom", _l("WeCom robot")),
    ("dingtalk", _l("DingTalk robot")),
    ("feishu", _l("Feishu robot")),
]


class EventForm(FlaskForm):
    name = StringField(_l("Event name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Event name (English)"), validators=[Length(max=200)])
    host_city = StringField(_l("Host city"), validators=[Length(max=100)])
    opening_at = DateTimeLocalField(_l("Opening (local time)"), validators=[DataRequired()])
    closing_at = DateTimeLocalField(_l("Closing (local time)"), validators=[Optional()])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])
    default_locale = SelectField(_l("Default language"), choices=[("zh_CN", "中文"), ("en", "English")])

    def validate_timezone(self, field):
        if field.data not in available_timezones():
            raise ValidationError(_l("Unknown time zone, e.g. Asia/Shanghai."))

    def validate_closing_at(self, field):
        if field.data and self.opening_at.data and field.data < self.opening_at.data:
            raise ValidationError(_l("Closing must be after opening."))


class GroupForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=16)])
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=100)])
    sort_order = IntegerField(_l("Order on the board"), validators=[Optional(), NumberRange(0, 9999)])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Length(max=100)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    group_ids = SelectMultipleField(_l("Work groups"), coerce=int)
    password = PasswordField(_l("New password (leave empty to keep)"), validators=[Optional(), Length(max=200)])
    is_active_account = BooleanField(_l("Account active"), default=True)


class WebhookForm(FlaskForm):
    webhook_url = StringField(
        _l("New robot address (leave empty to keep the current one)"), validators=[Optional(), Length(max=500)]
    )
    webhook_format = SelectField(_l("Message format"), choices=WEBHOOK_FORMATS)
    webhook_secret = PasswordField(
        _l("New signing secret (leave empty to keep the current one)"), validators=[Optional(), Length(max=200)]
    )
    remove = BooleanField(_l("Remove the robot"))


class SecurityForm(FlaskForm):
    require_totp = BooleanField(_l("Require two-factor sign-in for administrators and committee reviewers"))


class RenumberForm(FlaskForm):
    code = StringField(_l("New No."), validators=[DataRequired(), Length(max=32)])
    reason = StringField(_l("Why (kept in the ledger)"), validators=[Length(max=500)])
