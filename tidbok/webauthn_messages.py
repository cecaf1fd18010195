"""django-otp-webauthn's words, for our catalogs: the library has no Swedish. Its server's
messages (the `detail` of its JSON answers, which its script shows) are listed here so that
`makemessages` puts them into tidbok's django.po, whose Swedish then serves the library too
(Django merges every app's catalog). Its script's own messages are in tidbok's djangojs.po,
served with the library's by the catalog in tidbok/urls.py (`webauthn_js_catalog`)."""

from django.utils.translation import gettext_noop

SERVER = [
    gettext_noop("Error processing WebAuthn request."),
    gettext_noop("Malformed request. JSON not parsable."),
    gettext_noop("State is missing or invalid. Please begin the operation first before trying to complete it."),
    gettext_noop("Unprocessable Entity"),
    gettext_noop("Passwordless login is disabled."),
    gettext_noop("This user account is marked as disabled."),
    gettext_noop("This Passkey has been marked as disabled."),
    gettext_noop("The Passkey you tried to use was not found. Perhaps it was removed?"),
    gettext_noop("The Passkey you tried to use does not belong to the currently logged-in user. Try using a "
                 "different Passkey or logout first to use this Passkey."),
    gettext_noop("Authentication required."),
    gettext_noop("User is not verified."),
    gettext_noop("You must verify your identity first with an existing MFA device before you can register a new "
                 "passkey."),
]

# The script's (otp_webauthn_auth.js, otp_webauthn_register.js), with their Swedish: djangojs.po
# is written from this list by `DJANGO_SETTINGS_MODULE=tidbok.settings_test python -m
# tidbok.webauthn_messages`, then compilemessages (makemessages finds no gettext in our own
# scripts, so it would not keep them).
SCRIPT = {
    "An error occurred during registration.": "Ett fel uppstod när nyckeln skulle registreras.",
    "An error occurred during verification.": "Ett fel uppstod vid verifieringen.",
    "Finishing registration...": "Slutför registreringen …",
    "Finishing verification...": "Slutför verifieringen …",
    "Register a Passkey": "Registrera en passkey",
    "Registering...": "Registrerar …",
    "Registration aborted or not allowed.": "Registreringen avbröts eller tilläts inte.",
    "Registration aborted.": "Registreringen avbröts.",
    "Registration failed. A server error occurred.": "Registreringen misslyckades. Ett serverfel uppstod.",
    "Registration failed. A technical problem occurred that prevents you from registering a Passkey for this site.":
        "Registreringen misslyckades. Ett tekniskt problem hindrar dig från att registrera en passkey för den här "
        "webbplatsen.",
    "Registration failed. An unknown error occurred.": "Registreringen misslyckades. Ett okänt fel uppstod.",
    "Registration failed. The server was unable to verify this passkey.":
        "Registreringen misslyckades. Servern kunde inte verifiera den här passkeyn.",
    "Registration failed. Unable to fetch registration options from server.":
        "Registreringen misslyckades. Det gick inte att hämta uppgifter från servern.",
    "Registration failed. You most likely already have a Passkey registered for this site.":
        "Registreringen misslyckades. Du har troligen redan en passkey för den här webbplatsen.",
    "Registration successful!": "Passkeyn är registrerad!",
    "Verification aborted.": "Verifieringen avbröts.",
    "Verification canceled or not allowed.": "Verifieringen avbröts eller tilläts inte.",
    "Verification failed. A server error occurred.": "Verifieringen misslyckades. Ett serverfel uppstod.",
    "Verification failed. An unknown error occurred.": "Verifieringen misslyckades. Ett okänt fel uppstod.",
    "Verification failed. An unknown server error occurred.": "Verifieringen misslyckades. Ett okänt serverfel uppstod.",
    "Verification failed. Could not retrieve parameters from the server.":
        "Verifieringen misslyckades. Det gick inte att hämta uppgifter från servern.",
    "Verification successful!": "Verifieringen lyckades!",
    "Verify with Passkey": "Verifiera med passkey",
    "Verifying...": "Verifierar …",
}


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


if __name__ == "__main__":
    from pathlib import Path

    entries = "".join(f"\nmsgid {_po_quote(en)}\nmsgstr {_po_quote(sv)}\n" for en, sv in SCRIPT.items())
    header = ("# django-otp-webauthn's script in Swedish, written by tidbok/webauthn_messages.py.\n"
              'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: sv\\n"\n'
              '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n')
    path = Path(__file__).parent / "locale" / "sv" / "LC_MESSAGES" / "djangojs.po"
    path.write_text(header + entries, encoding="utf-8")
