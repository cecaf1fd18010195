from django.urls import path

from . import views

app_name = "client_pages"

urlpatterns = [
    path("hitta-terapeut/", views.find, name="find"),
    path("hitta-terapeut/matchning/", views.match, name="match"),
    path("terapeut/<int:therapist_id>/", views.profile, name="profile"),
    path("terapeut/<int:therapist_id>/vantelista/", views.waitlist_join, name="waitlist_join"),
    path("mina-bokningar/vantelista/<int:therapist_id>/lamna/", views.waitlist_leave, name="waitlist_leave"),
    path("boka/<int:slot_id>/", views.book, name="book"),
    path("mina-bokningar/", views.bookings, name="bookings"),
    path("mina-bokningar/<int:booking_id>/", views.booking_detail, name="booking"),
    path("vem-har-last-mina-uppgifter/", views.access_log, name="access_log"),
    path("mina-bokningar/<int:booking_id>/avboka/", views.booking_cancel, name="cancel"),
    path("mina-bokningar/<int:booking_id>/flytta/", views.booking_move, name="move"),
    path("mina-bokningar/<int:booking_id>/flytta/<int:slot_id>/", views.booking_move_to, name="move_to"),
    path("mina-bokningar/<int:booking_id>/ny-videolank/", views.video_link_renew, name="video_link"),
    path("skapa-konto/", views.signup, name="signup"),
    path("bekrafta/<uidb64>/<token>/", views.verify_email, name="verify_email"),
    path("inbjudan/<str:token>/", views.invitation, name="invitation"),
    path("glomt-losenord/", views.PasswordReset.as_view(), name="password_reset"),
    path("glomt-losenord/skickat/", views.PasswordResetDone.as_view(), name="password_reset_done"),
    path("losenord/<uidb64>/<token>/", views.PasswordSet.as_view(), name="password_set"),
    path("losenord/klart/", views.PasswordSetDone.as_view(), name="password_set_done"),
]
