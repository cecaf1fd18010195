"""The client's side of Tidbok. For now: the video link (R20)."""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone

from domain.models import Booking


def video(request, token: str):
    """R20: before the window, a page saying when it opens (no room link in it); from 15
    minutes before the start until the end, straight to the room; after the end, 410."""
    if "\x00" in token:
        raise Http404  # no token holds one, and PostgreSQL cannot even compare it (a 500)
    booking = (
        Booking.objects.select_related("therapist__user")
        .filter(video_token=token, mode="video", status=Booking.Status.CONFIRMED)
        .first()
    )
    if booking is None:
        raise Http404
    opens, closes = booking.video_window()
    now = timezone.now()
    if opens <= now < closes:
        return HttpResponseRedirect(booking.video_room_url)
    tz = booking.therapist.tz
    context = {
        "booking": booking,
        "opens": timezone.localtime(opens, tz),
        "start": timezone.localtime(booking.start_at, tz),
        "closed": now >= closes,
    }
    # Templates show aware times in the active zone; make that the therapist's (R22).
    with timezone.override(tz):
        response = render(request, "client_pages/video.html", context, status=410 if now >= closes else 200)
    response["Cache-Control"] = "no-store"
    return response


def find(request):
    """R9: placeholder until issue 4 builds the listing page."""
    return render(request, "client_pages/placeholder.html", {"title": "Hitta terapeut"})


def bookings(request):
    """R21: placeholder until issue 4 builds Mina bokningar."""
    return render(request, "client_pages/placeholder.html", {"title": "Mina bokningar"})
