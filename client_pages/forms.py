"""The client pages' forms: they parse and check the shape of the input; the rules
themselves are the domain's (its ValidationError names the field, shown beside it)."""

from django import forms
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from domain.models import (
    EMAIL_MAX_LENGTH,
    MODE_FOR_CLIENTS,
    NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PERSONNUMMER_TYPED_MAX_LENGTH,
)

MODE_CHOICES = list(MODE_FOR_CLIENTS.items())  # the labels live with the model (domain/models.py)
ANY_MODE = [("", _("Video or on site"))] + MODE_CHOICES
DAY_CHOICES = [
    (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
    (5, _("Saturday")), (6, _("Sunday")),
]
PART_CHOICES = [("morning", _("Morning (6–12)")), ("afternoon", _("Afternoon (12–17)")), ("evening", _("Evening (17–23)"))]


class DescribedErrors:
    """Screen readers read a field's error with it: Django points `aria-describedby` at the
    help text when there is one, and then leaves the error out; point it at both."""

    def full_clean(self):
        super().full_clean()
        self._describe_errors()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._describe_errors()

    def _describe_errors(self):
        for name, field in self.fields.items():
            if name in self._errors and field.help_text:
                bound = self[name]
                field.widget.attrs["aria-describedby"] = f"{bound.auto_id}_helptext {bound.auto_id}_error"
                field.widget.attrs["aria-invalid"] = "true"


class SignupForm(DescribedErrors, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=NAME_MAX_LENGTH,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label=_("Last name"), max_length=NAME_MAX_LENGTH,
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    personnummer = forms.CharField(
        label=_("Personnummer (optional)"), max_length=PERSONNUMMER_TYPED_MAX_LENGTH, required=False,
        help_text=_("12 digits, YYYYMMDD-NNNN. Only you and your therapists see it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    email = forms.EmailField(label=_("E-mail address"), max_length=EMAIL_MAX_LENGTH,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(label=_("Password"), max_length=PASSWORD_MAX_LENGTH, strip=False,
                               help_text=_("At least 8 characters, not only digits, not a common password."),
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    accept_privacy_policy = forms.BooleanField(
        label=_("I have read the privacy policy and agree that Tidbok stores my data as it says."),
        error_messages={"required": _("To create an account, accept the privacy policy.")},
    )


def choices_with_any(values, any_label, label=None):
    return [("", any_label)] + [(v, label(v) if label else v) for v in values]


class FindForm(forms.Form):
    mode = forms.ChoiceField(label=_("Kind of meeting"), choices=ANY_MODE, required=False)
    city = forms.ChoiceField(label=_("City"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    area = forms.ChoiceField(label=_("Help with"), required=False)

    def __init__(self, data, *, choices, language_name):
        super().__init__(data)
        self.fields["city"].choices = choices_with_any(choices["cities"], _("Any city"))
        self.fields["language"].choices = choices_with_any(choices["languages"], _("Any language"), language_name)
        self.fields["area"].choices = choices_with_any(choices["areas"], _("Anything"))


class MatchForm(FindForm):
    days = forms.TypedMultipleChoiceField(label=_("Days that suit you"), choices=DAY_CHOICES, coerce=int,
                                          required=False, widget=forms.CheckboxSelectMultiple)
    parts = forms.MultipleChoiceField(label=_("Times that suit you"), choices=PART_CHOICES, required=False,
                                      widget=forms.CheckboxSelectMultiple)

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        del self.fields["city"]
        self.fields["area"].label = _("What would you like help with?")


class BookForm(forms.Form):
    mode = forms.ChoiceField(label=_("Kind of meeting"), choices=MODE_CHOICES, widget=forms.RadioSelect)

    def __init__(self, data=None, *, modes, initial_mode=None):
        preset = initial_mode if initial_mode in modes else (modes[0] if len(modes) == 1 else None)
        super().__init__(data, initial={"mode": preset})
        self.fields["mode"].choices = [c for c in MODE_CHOICES if c[0] in modes]


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form; the view hands the address to `password_reset_request`, and the
    worker decides who gets a link (through the outbox: R25)."""

    def save(self, **kwargs):  # never called: PasswordReset.form_valid takes the request
        raise NotImplementedError


class ChoosePasswordForm(DescribedErrors, SetPasswordForm):
    """A new password by a mailed link: following the link proved the address (R27)."""

    def save(self, commit=True):
        self.user.email_verified = True
        return super().save(commit=commit)


WEEKDAY_CHOICES = [(i + 1, label) for i, label in DAY_CHOICES]  # R37 stores ISO weekdays, 1 = Monday


class WaitlistForm(DescribedErrors, forms.Form):
    """R37: what suits her on a therapist's wait list; every part may be left empty (any)."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days that suit you"), choices=WEEKDAY_CHOICES, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: any day."),
    )
    from_time = forms.TimeField(label=_("From (time of day)"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    to_time = forms.TimeField(label=_("Until (time of day)"), required=False,
                              widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    modes = forms.MultipleChoiceField(label=_("Kind of meeting"), choices=MODE_CHOICES, required=False,
                                      widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: either."))
