from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from tracker.workdays.services import NAME_MAX

YEARS = NumberRange(2000, 2100, message=_l("A year between 2000 and 2100."))


class DayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Choose a date."))])
    working = SelectField(_l("This day is"), choices=[("0", _l("a day off")), ("1", _l("a working day"))])
    name = StringField(_l("Name (e.g. 春节, 国庆节 调休上班)"), validators=[Length(max=NAME_MAX)])


class YearForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[DataRequired(message=_l("A year between 2000 and 2100.")), YEARS])


class ImportForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[DataRequired(message=_l("A year between 2000 and 2100.")), YEARS])
    file = FileField(_l("Arrangement file (.csv or .xlsx)"))
