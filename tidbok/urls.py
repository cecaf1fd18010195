from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog, set_language
from django_otp_webauthn import urls as otp_webauthn_urls

from api.api import api
from client_pages import views as client_views

from . import two_factor, views

# django-otp-webauthn's JSON views, with its script's catalog served together with our Swedish
# for it (tidbok/webauthn_messages.py): the library ships no Swedish.
webauthn_urls = [
    *[p for p in otp_webauthn_urls.urlpatterns if p.name != "js-i18n-catalog"],
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn", "tidbok"]), name="js-i18n-catalog"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("logga-in/", views.login_view, name="login"),
    path("logga-ut/", views.logout_view, name="logout"),
    path("konto/", views.account, name="account"),
    path("konto/nycklar/<int:token_id>/ta-bort/", views.account_token_delete, name="account_token_delete"),
    path("konto/radera/", views.account_erase, name="account_erase"),
    path("konto/raderat/", views.account_erased, name="account_erased"),
    path("personuppgiftspolicy/", views.privacy, name="privacy"),
    # The second factor (R42): the step after the password, and its page under Konto.
    path("logga-in/kod/", two_factor.login_otp, name="login_otp"),
    path("konto/tvastegsverifiering/", two_factor.two_factor, name="two_factor"),
    path("konto/tvastegsverifiering/app/", two_factor.two_factor_totp, name="two_factor_totp"),
    path("konto/tvastegsverifiering/reservkoder/", two_factor.two_factor_recovery, name="two_factor_recovery"),
    path("konto/tvastegsverifiering/nyckel/<int:passkey_id>/ta-bort/", two_factor.two_factor_passkey_delete,
         name="two_factor_passkey_delete"),
    path("konto/tvastegsverifiering/stang-av/", two_factor.two_factor_off, name="two_factor_off"),
    # django-otp-webauthn's JSON endpoints (passkey registration and log-in).
    path("webauthn/", include((webauthn_urls, "otp_webauthn"))),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("kalender/", include("therapist_pages.urls")),
    path("", include("client_pages.urls")),
    path("video/<str:token>", client_views.video, name="video"),
    path("videorum/<str:room>", client_views.practice_room, name="practice_room"),
    # Pages that do not name an icon (the admin, the API's docs): browsers ask for this one.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("tidbok/favicon-32.png"), permanent=True),
         name="favicon"),
]

if settings.OIDC_ISSUER:
    # eID log-in (R27) exists only when a broker is configured (tidbok/eid.py).
    from . import eid

    urlpatterns += [
        path("login/eid/", eid.EidStart.as_view(), name="eid_start"),
        path("login/eid/callback/", eid.EidCallback.as_view(), name="eid_callback"),
        path("login/eid/nytt-konto/", eid.eid_signup, name="eid_signup"),
    ]

# A database gone while a middleware read the session or the user: 503, not 500 (tidbok/views.py).
handler500 = "tidbok.views.server_error"
# The API's 400 (a foreign Host header) in the API's JSON shape, not an HTML page.
handler400 = "tidbok.views.bad_request"
