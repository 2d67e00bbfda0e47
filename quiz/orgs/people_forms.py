"""Forms of the member, cohort and organisation pages (CSRF through Flask-WTF).

Cohort choices are read as text and checked by quiz.orgs.people against the organisation
(a cohort id of another organisation is a 404 there, not a form error here).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..vocab import OrgRole
from .people import COHORT_NAME_MAX, NO_COHORT, ORG_NAME_MAX, PeopleError


class IdListField(Field):
    """Repeated `name` values (ticked boxes) as positive ids; anything else a form error."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, default=list, **kwargs)

    def process_formdata(self, valuelist):
        ids = []
        for raw in valuelist:
            raw = raw.strip()
            if not (raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 10):
                self.data = []
                raise ValueError("The selection is not valid: reload the page and tick again.")
            ids.append(int(raw))
        self.data = ids


def target_cohort(raw: str | None) -> int | None:
    """The cohort a move goes to: NO_COHORT is None, a number an id (checked later)."""
    raw = (raw or "").strip()
    if raw == NO_COHORT:
        return None
    if not (raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 10):
        raise PeopleError("Choose the cohort to move to (or “No cohort”).")
    return int(raw)


class MoveForm(FlaskForm):
    """The ticked members and where to: `target` (the list's own filter is `cohort`)."""

    ids = IdListField("Members")
    target = StringField("Move to", validators=[Length(max=20)])
    submit = SubmitField("Move")


class MemberCohortForm(FlaskForm):
    cohort = StringField("Cohort", validators=[Length(max=20)])
    submit = SubmitField("Move")


class MemberRoleForm(FlaskForm):
    role = SelectField("Role in the organisation",
                       choices=[SelectChoice(r.value, r.value.title()) for r in OrgRole])
    submit = SubmitField("Change role")


class CohortForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter a name for the cohort."),
                                           Length(max=COHORT_NAME_MAX)])
    submit = SubmitField("Save")


class ActionForm(FlaskForm):
    """A button that POSTs (remove, delete): the CSRF token only."""

    submit = SubmitField("Go")


class NewOrganisationForm(FlaskForm):
    name = StringField("Organisation name", validators=[
        InputRequired("Enter the organisation's name."), Length(max=ORG_NAME_MAX)])
    manager_email = StringField("Manager's e-mail", validators=[
        InputRequired("Enter the manager's e-mail address."), Length(max=254)],
        description="An existing account becomes the manager; otherwise an account is made "
                    "and a link to choose a password is mailed to this address.")
    manager_name = StringField("Manager's name (for a new account)",
                               validators=[Optional(), Length(max=100)])
    submit = SubmitField("Create organisation")


class OrgNameForm(FlaskForm):
    name = StringField("New name", validators=[
        InputRequired("Enter the organisation's name."), Length(max=ORG_NAME_MAX)])
    submit = SubmitField("Rename")


class OrgActiveForm(FlaskForm):
    active = SelectField("Status", choices=[SelectChoice("yes", "Active"),
                                            SelectChoice("no", "Inactive")])
    submit = SubmitField("Save")
