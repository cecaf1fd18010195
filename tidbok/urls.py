from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import path

from api.api import api
from portal import views as portal

urlpatterns = [
    path("", lambda request: HttpResponseRedirect("/api/v1/docs")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("video/<str:token>", portal.video, name="video"),
]
