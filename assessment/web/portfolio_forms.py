"""The forms of portfolio pages (kept apart from forms.py, which the journey's forms fill)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from .forms import NAME_MAX, UploadField


class PortfolioForm(FlaskForm):
    name = StringField("Portfolio name", validators=[DataRequired(), Length(max=NAME_MAX)])
    rubric = SelectField("Rubric version (pinned for every agency and round)")
    round = StringField("First round", default="Round 1", validators=[DataRequired(), Length(max=NAME_MAX)])


class AgencyForm(FlaskForm):
    name = StringField("Agency name", validators=[DataRequired(), Length(max=NAME_MAX)])
    type = StringField("Type (for example ministry, regulator)", validators=[Optional(), Length(max=NAME_MAX)])
    size = StringField("Size (for example small, large)", validators=[Optional(), Length(max=NAME_MAX)])
    contact = StringField("Contact email", validators=[Optional(), Length(max=NAME_MAX),
                                                       Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter an email address.")])


class AgencyUploadForm(FlaskForm):
    file = UploadField("CSV file with the columns name,type,size,contact", accept=".csv,.txt,text/csv,text/plain")


class RoundForm(FlaskForm):
    name = StringField("Name of the new round (for example 2027)",
                       validators=[DataRequired(message="Name the new round."),
                                   Length(max=NAME_MAX, message=f"The name can be at most {NAME_MAX} characters.")])
