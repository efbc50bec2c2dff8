"""WTForms for sign-in and user administration (Flask-WTF adds the CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from wms.enums import Role


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_choices() -> list[str]:
    # Plain strings (value = label): tuples are deprecated in WTForms 3.3, SelectChoice is missing before it.
    return [r.value for r in Role]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    device_id = HiddenField(validators=[Optional(), Length(max=64)], render_kw={"data-device-id": ""})


class BadgeForm(FlaskForm):
    badge = StringField(_l("Badge"), validators=[DataRequired(), Length(max=64)],
                        render_kw={"autofocus": True, "autocomplete": "off", "inputmode": "text"})
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Length(max=16)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    device_id = HiddenField(validators=[Optional(), Length(max=64)], render_kw={"data-device-id": ""})


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"})
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A POST button: only the CSRF token."""


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    roles = MultiCheckboxField(_l("Roles"), choices=role_choices())
    all_warehouses = BooleanField(_l("All warehouses"))
    warehouses = MultiCheckboxField(_l("Warehouses"), choices=[])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    badge = StringField(_l("Badge"), validators=[Optional(), Length(max=64)])
    pin = PasswordField(_l("PIN"), validators=[Optional(), Length(max=16)], render_kw={"inputmode": "numeric"})


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    roles = MultiCheckboxField(_l("Roles"), choices=role_choices())
    all_warehouses = BooleanField(_l("All warehouses"))
    warehouses = MultiCheckboxField(_l("Warehouses"), choices=[])
    active = BooleanField(_l("Active"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})


class BadgeSetForm(FlaskForm):
    badge = StringField(_l("Badge"), validators=[DataRequired(), Length(max=64)])
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Length(max=16)],
                        render_kw={"inputmode": "numeric"})


class TokenCreateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    purpose = SelectField(_l("Purpose"), choices=["channel", "print_site", "user"])
    warehouse = SelectField(_l("Warehouse"), choices=[], validate_choice=False)
    channel = SelectField(_l("Channel (channel token)"), choices=[], validate_choice=False)
    username = StringField(_l("User (personal token)"), validators=[Optional(), Length(max=64)])
