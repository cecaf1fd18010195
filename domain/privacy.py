"""The privacy policy ("Personuppgiftspolicy"): its version and date. A sign-up accepts this
version; the version and the moment are stored on the account (`User.privacy_policy_*`).
Change the version whenever the policy's text (tidbok/templates/tidbok/privacy.html) changes
in substance, so that what each person accepted stays known."""

from datetime import date

POLICY_VERSION = "1.0"
POLICY_DATE = date(2026, 11, 29)
