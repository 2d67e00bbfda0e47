from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from ..vocab import Role


class RoleForm(FlaskForm):
    # Validated against the Role vocabulary: anything else is a form error (400).
    role = SelectField("New role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])
    submit = SubmitField("Change role")


class ActionForm(FlaskForm):
    """A button that POSTs (deactivate, reactivate, create a reset link): the CSRF token only."""

    submit = SubmitField("Go")
