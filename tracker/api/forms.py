from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from tracker.api.services import NAME_LIMIT


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=NAME_LIMIT)])


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking is one button."""
