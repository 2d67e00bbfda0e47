"""Forms of the invitation and join-code pages (quiz/orgs/invitation_views.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from ..accounts import MIN_PASSWORD, password_problems

ROLE_CHOICES = [SelectChoice("member", "Member (learner)"), SelectChoice("instructor", "Instructor")]


def _cohort_choices(cohorts: list[tuple[int, str]], none_label: str) -> list[tuple[str, str]]:
    return [SelectChoice("", none_label)] + [SelectChoice(str(cid), name) for cid, name in cohorts]


class InviteForm(FlaskForm):
    emails = TextAreaField("E-mail addresses", validators=[Optional(), Length(max=120_000)],
                           description="One per line, or separated by commas.")
    csv_file = FileField("Or a CSV file",
                         description="UTF-8, first row: name, e-mail, cohort (the cohort by its "
                                     "name; may be empty). At most 1 MiB and 2,000 rows.")
    role = SelectField("Invite as", choices=ROLE_CHOICES, default="member")
    cohort = SelectField("Cohort", choices=[SelectChoice("", "No cohort")], default="",
                         description="For everyone in the list, and for CSV rows whose cohort "
                                     "cell is empty.")
    submit = SubmitField("Preview")

    def set_cohorts(self, cohorts: list[tuple[int, str]]) -> None:
        self.cohort.choices = _cohort_choices(cohorts, "No cohort")


class ConfirmForm(FlaskForm):
    preview = HiddenField()
    submit = SubmitField("Send the invitations")


class ActionForm(FlaskForm):
    """Only the CSRF token: resend, revoke, join."""


class AcceptForm(FlaskForm):
    """Creating the invited account: the address comes from the invitation."""

    name = StringField("Your name", validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        "Choose a password", validators=[DataRequired()],
        description=f"At least {MIN_PASSWORD} characters, not a common password, your name or "
                    "your e-mail. A few unrelated words make a strong one.")
    confirm = PasswordField("Repeat the password", validators=[
        DataRequired(), EqualTo("password", message="The passwords do not match.")])
    submit = SubmitField("Create my account and join")

    email = ""  # set by the view: the invited address, for the password policy

    def validate_password(self, field) -> None:
        for problem in password_problems(field.data or "", self.email, self.name.data or ""):
            raise ValidationError(problem)


class JoinCodeForm(FlaskForm):
    days = IntegerField("Valid for (days)", default=14,
                        validators=[DataRequired(message="Enter a number of days."),
                                    NumberRange(1, 365, message="1 to 365 days.")])
    max_uses = IntegerField("Maximum number of uses", validators=[
        Optional(), NumberRange(1, 10000, message="1 to 10,000, or empty for no limit.")],
        description="Empty: anyone with the code may join until it expires.")
    cohort = SelectField("Cohort", choices=[SelectChoice("", "No cohort")], default="")
    submit = SubmitField("Create a join code")

    def set_cohorts(self, cohorts: list[tuple[int, str]]) -> None:
        self.cohort.choices = _cohort_choices(cohorts, "No cohort")
