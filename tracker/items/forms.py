from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from tracker.items import labels, rules
from tracker.items.rules import TEXT_LIMITS as LIMITS
from tracker.items.services import EDITABLE_FIELDS
from tracker.routing import MAX_ID, parse_id


def _choices(mapping, blank=None):
    items = [(key, label) for key, label in mapping.items()]
    return ([("", blank)] if blank is not None else []) + items


class ItemForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_choices(labels.KIND))
    code = StringField(_l("No."), validators=[Optional(), Length(max=LIMITS["code"])])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=LIMITS["title"])])
    description = TextAreaField(_l("Description"), validators=[Length(max=LIMITS["description"])])
    # The known sources by name; a free-text source from a sheet or the API stays a choice (views).
    source = SelectField(
        _l("Source"),
        choices=_choices(labels.SOURCE, blank="—"),
        validators=[Length(max=LIMITS["source"])],
        validate_choice=False,
    )
    key_area = SelectField(_l("Key area"), choices=_choices(labels.KEY_AREA, blank="—"), validate_choice=False)
    severity = SelectField(_l("Severity"), choices=_choices(labels.SEVERITY), default="medium")
    # Ids are checked by the service (existence and permission), with a message per field.
    group_id = SelectField(
        _l("Responsible group"), coerce=parse_id, validators=[InputRequired()], validate_choice=False
    )
    supporting_group_ids = SelectMultipleField(_l("Supporting groups"), coerce=parse_id, validate_choice=False)
    owner_id = SelectField(_l("Responsible person"), coerce=parse_id, validate_choice=False)
    measures = TextAreaField(_l("Measures"), validators=[Length(max=LIMITS["measures"])])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    acceptance_criteria = TextAreaField(
        _l("Acceptance criteria"), validators=[Length(max=LIMITS["acceptance_criteria"])]
    )
    found_on = DateField(_l("Found on"), validators=[Optional()])
    venue = StringField(_l("Venue"), validators=[Length(max=LIMITS["venue"])])
    milestone_id = SelectField(_l("Milestone"), coerce=parse_id, validate_choice=False)
    is_confidential = BooleanField(_l("Confidential (only the group, committee and admins see it)"))
    remarks = TextAreaField(_l("Remarks"), validators=[Length(max=LIMITS["remarks"])])
    version = IntegerField(
        _l("Version"),
        widget=HiddenInput(),
        validators=[Optional(), NumberRange(0, MAX_ID, message=_l("The form is out of date; reload the item."))],
    )
    reason = StringField(_l("Reason for a deadline change"), validators=[Length(max=rules.DEADLINE_REASON_LIMIT)])

    def item_data(self) -> dict:
        """Exactly the fields the item service accepts; nothing else posted reaches it."""
        return {name: getattr(self, name).data for name in EDITABLE_FIELDS}


def carry_version(form: FlaskForm, version: int) -> None:
    """Let the form be saved against ``version`` next time (after a conflict).

    Setting ``data`` is not enough: a field renders what was posted while there is any.
    """
    form.version.data = version
    form.version.raw_data = [str(version)]


def _version_field():
    return IntegerField(
        widget=HiddenInput(),
        validators=[Optional(), NumberRange(0, MAX_ID, message=_l("The form is out of date; reload the item."))],
    )


class TransitionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Reason or note"), validators=[Length(max=rules.NOTE_LIMIT)])
    version = _version_field()


class ProgressForm(FlaskForm):
    note = TextAreaField(_l("Progress note"), validators=[Length(max=rules.NOTE_LIMIT)])
    progress = IntegerField(_l("Progress (%)"), validators=[Optional(), NumberRange(0, 100)])
    files = MultipleFileField(_l("Evidence files (photos, PDF, Office)"))
    version = _version_field()


class ExtensionRequestForm(FlaskForm):
    deadline = DateField(_l("New deadline"), validators=[InputRequired(message=_l("Give the new deadline."))])
    reason = TextAreaField(
        _l("Reason for the extension"),
        validators=[DataRequired(message=_l("A reason is required.")), Length(max=rules.EXTENSION_REASON_LIMIT)],
    )


class ExtensionDecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Decision note (required to refuse)"), validators=[Length(max=rules.NOTE_LIMIT)])
