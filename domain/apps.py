from django.apps import AppConfig
from django.db.models.signals import post_save


class DomainConfig(AppConfig):
    name = "domain"
    verbose_name = "Tidbok"

    def ready(self):
        from django_otp_webauthn.models import WebAuthnCredential

        # django-otp-webauthn's own view saves a new passkey; the audit trail and the rest of
        # what a new second factor means happen here (domain/services/two_factor.py).
        post_save.connect(_passkey_saved, sender=WebAuthnCredential, dispatch_uid="tidbok-passkey-added")


def _passkey_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw and instance.confirmed:
        from .services.two_factor import passkey_added

        passkey_added(credential=instance)
