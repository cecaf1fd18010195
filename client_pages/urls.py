from django.urls import path

from . import views

app_name = "client_pages"

urlpatterns = [
    path("hitta-terapeut/", views.find, name="find"),
    path("mina-bokningar/", views.bookings, name="bookings"),
]
