from django.urls import path

from . import views

app_name = "therapist_pages"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("klienter/", views.clients, name="clients"),
    path("installningar/", views.settings_page, name="settings"),
]
