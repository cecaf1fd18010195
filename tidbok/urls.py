from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from django.views.i18n import set_language

from api.api import api
from client_pages import views as client_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("logga-in/", views.login_view, name="login"),
    path("logga-ut/", views.logout_view, name="logout"),
    path("konto/", views.account, name="account"),
    path("konto/nycklar/<int:token_id>/ta-bort/", views.account_token_delete, name="account_token_delete"),
    path("konto/radera/", views.account_erase, name="account_erase"),
    path("konto/raderat/", views.account_erased, name="account_erased"),
    path("personuppgiftspolicy/", views.privacy, name="privacy"),
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
