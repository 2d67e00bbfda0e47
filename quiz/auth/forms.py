from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..accounts import MAX_PASSWORD, MIN_PASSWORD, password_problems


class RegisterForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=100)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[DataRequired()],
        description=f"At least {MIN_PASSWORD} characters, not a common password, your name or your "
                    "e-mail. A few unrelated words make a strong one that is easy to remember.",
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
    )
    submit = SubmitField("Create account")

    def validate_password(self, field) -> None:
        """The one password policy (accounts.password_problems), with its own clear messages."""
        for problem in password_problems(field.data or "", self.email.data or "",
                                         self.name.data or ""):
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")
