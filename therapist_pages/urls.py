from django.urls import path

from . import views

app_name = "therapist_pages"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("pris/", views.price, name="price"),
    path("tider/ny/", views.slot_new, name="slot_new"),
    path("tider/flera/", views.slot_range, name="slot_range"),
    path("tider/<int:slot_id>/", views.slot, name="slot"),
    path("tider/<int:slot_id>/andra/", views.slot_edit, name="slot_edit"),
    path("tider/<int:slot_id>/ta-bort/", views.slot_delete, name="slot_delete"),
    path("tider/<int:slot_id>/upprepa/", views.slot_repeat, name="slot_repeat"),
    path("tider/<int:slot_id>/boka/", views.slot_book, name="slot_book"),
    path("tider/<int:slot_id>/boka-varje-vecka/", views.series_start, name="series_start"),
    path("tider/<int:slot_id>/serie/", views.series, name="series"),
    path("bokningar/<int:booking_id>/avboka/", views.booking_cancel, name="booking_cancel"),
    path("bokningar/<int:booking_id>/avboka-foljande/", views.series_cancel, name="series_cancel"),
    path("bokningar/<int:booking_id>/utfall/", views.booking_outcome, name="booking_outcome"),
    path("bokningar/<int:booking_id>/ny-videolank/", views.booking_video_link, name="booking_video_link"),
    path("ledighet/", views.time_off, name="time_off"),
    path("ledighet/<int:time_off_id>/ta-bort/", views.time_off_delete, name="time_off_delete"),
    path("klienter/", views.clients, name="clients"),
    path("klienter/<int:client_id>/", views.client, name="client"),
    path("klienter/<int:client_id>/bjud-in/", views.client_invite, name="client_invite"),
    path("installningar/", views.settings_page, name="settings"),
    path("installningar/nytt-kalenderflode/", views.feed_regenerate, name="feed_regenerate"),
    path("installningar/annan-kalender/", views.busy_calendar, name="busy_calendar"),
    path("installningar/annan-kalender/hamta/", views.busy_calendar_fetch, name="busy_calendar_fetch"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
