from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

UPLOAD_ID = r"^[A-Za-z0-9_-]{20,64}$"  # uploads.keep() names files with these


class ImportForm(FlaskForm):
    file = FileField(_l("Ledger sheet (.xlsx)"), validators=[FileRequired(_l("Choose a file to upload."))])


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Regexp(UPLOAD_ID)])
