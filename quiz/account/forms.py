from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..accounts import MAX_PASSWORD, MIN_PASSWORD

NEW_PASSWORD_HELP = (f"At least {MIN_PASSWORD} characters, not a common password, your name or "
                     "your e-mail. A few unrelated words make a strong one that is easy to remember.")


class NameForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=100)])
    submit = SubmitField("Save name")


class PasswordForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    password = PasswordField("New password", validators=[DataRequired()],
                             description=NEW_PASSWORD_HELP)
    confirm = PasswordField("Repeat new password", validators=[
        DataRequired(), EqualTo("password", message="The passwords do not match.")])
    submit = SubmitField("Change password")


class ResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired()],
                             description=NEW_PASSWORD_HELP)
    confirm = PasswordField("Repeat new password", validators=[
        DataRequired(), EqualTo("password", message="The passwords do not match.")])
    submit = SubmitField("Set password")
