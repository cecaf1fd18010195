"""The therapist's pages (R1–R7, R10, R12–R15, R18, R23): server-rendered and thin over
`domain`. Each view parses its input, fetches through the owner (another therapist's slot,
booking or client is a 404), calls one service or selector, and renders.

The week calendar itself is FullCalendar (therapist_pages/static/therapist_pages/calendar.js)
reading and changing slots through the JSON API; the booking view it opens is a fragment
rendered here, whose forms post to the views below and get JSON back: 200 with a message,
422 with the errors per field, 409 with the domain's reason in words."""

import functools
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from domain import selectors, services
from domain import video as video_rooms
from domain.errors import MESSAGES, Code, DomainError
from domain.models import VIDEO, AccessRecord, Booking, BookingSeries, Slot, Therapist
from domain.services.access_log import record_reads, record_reads_when_sent
from domain.services.busy import busy_calendar_set, busy_fetch
from domain.services.slots import validate_duration
from domain.timezones import date_from_text, local, local_today
from tidbok.http import login_required_401, url_template

from . import colours, forms, history
from .feed import calendar_feed


def therapist_required(view, login=login_required):
    """Logged in (else to the login page) as a therapist (else 403). The therapist is
    `request.therapist`, the owner every object is fetched through."""

    @functools.wraps(view)
    @login
    def wrapper(request, *args, **kwargs):
        therapist = getattr(request.user, "therapist", None)
        if therapist is None:
            raise PermissionDenied
        request.therapist = therapist
        with timezone.override(therapist.tz):  # templates show her wall-clock time (R22)
            return view(request, *args, **kwargs)

    return wrapper


def therapist_endpoint(view):
    """`therapist_required` for what calendar.js fetches (JSON, or the booking view's
    fragment): not logged in, or no longer, it answers 401 JSON (`tidbok.http.not_logged_in`),
    and the script goes to the log-in page and back."""
    return therapist_required(view, login=login_required_401)


def own_slot(request, slot_id: int) -> Slot:
    return get_object_or_404(Slot.objects.select_related("therapist__user"), pk=slot_id, therapist=request.therapist)


What, Surface = AccessRecord.What, AccessRecord.Surface


def log_reads(request, clients, what: str) -> None:
    """R39: this page shows these clients' personal data to her (one INSERT, once the page is
    sent)."""
    record_reads_when_sent(request, actor=request.user, clients=clients, what=what, surface=Surface.PAGE)


def done(message: str, **extra) -> JsonResponse:
    return JsonResponse({"message": message, **extra})


def invalid(errors) -> JsonResponse:
    """422 with the messages per field: a form's errors or a domain ValidationError's."""
    if isinstance(errors, ValidationError):
        errors = errors.message_dict if hasattr(errors, "error_dict") else {"__all__": errors.messages}
    return JsonResponse({"errors": {field: list(msgs) for field, msgs in errors.items()}}, status=422)


def refused(error: DomainError) -> JsonResponse:
    return JsonResponse({"code": error.code, "detail": str(error.detail)}, status=409)


def when(dt: datetime, therapist: Therapist) -> str:
    """"tis 1 dec 09:00" in the therapist's zone and the page's language."""
    return formats.date_format(local(dt, therapist.tz), "D j F H:i")


# The calendar ----------------------------------------------------------------------------


@therapist_required
@require_GET
def calendar(request):
    """R1: the week calendar. Everything the script needs comes in one json_script."""
    therapist = request.therapist
    try:
        initial_date = date_from_text(request.GET.get("datum", "")).isoformat()
    except ValueError:
        initial_date = None  # today
    config = {
        "timeZone": therapist.timezone,
        "locale": translation.get_language(),
        "initialDate": initial_date,
        # A slot's booking view to open at once (?tid=): the time off page links bookings here.
        # ASCII digits only, an id's length at most ("²" and "١٢" pass str.isdigit()).
        "initialSlot": tid if re.fullmatch(r"[0-9]{1,18}", tid := request.GET.get("tid", "")) else None,
        "urls": {
            "events": reverse("api-v1:calendar"),
            "apiSlots": reverse("api-v1:slot_create"),
            "apiSlot": url_template("api-v1:slot_patch", "slot_id"),  # {slot_id}: Tidbok.url fills it in
            "apiClients": reverse("api-v1:clients"),
            "timeOff": reverse("api-v1:time_off_list"),
            "busy": reverse("api-v1:busy_list"),
            "slot": url_template("therapist_pages:slot", "slot_id"),
            "range": reverse("therapist_pages:slot_range"),
            "price": reverse("therapist_pages:price"),
        },
        "colours": colours.for_script(),
        "outcomes": colours.outcomes_for_script(),
        "marks": colours.marks_for_script(),
        "timeOff": colours.time_off_for_script(),
        "busy": colours.busy_for_script(),
        "strings": {
            "created": _("New slot %(time)s."),
            "moved": _("Moved to %(time)s."),
            "resized": _("Now %(minutes)s minutes, %(price)s kr."),
            "price": _("%(price)s kr"),
            "refused": _("Not changed: %(reason)s"),
            "notCreated": _("Not created: %(reason)s"),
            "askChangeBooked": _("%(name)s has booked this time. Change the booking to %(time)s? "
                                 "%(name)s gets an e-mail about the new time."),
            "notMoved": _("Not changed: the booking keeps its time."),
            "movedBooked": _("The booking of %(name)s is moved to %(time)s; %(name)s gets an e-mail about it."),
            "resizedBooked": _("The booking of %(name)s is now %(minutes)s minutes, %(price)s kr; "
                               "%(name)s gets an e-mail about it."),
            "clientAdded": _("%(name)s is on your client list now, and chosen."),
            "failed": _("Something went wrong; nothing was changed. Try again."),
            "loadFailed": _("The calendar could not be loaded. Reload the page to try again."),
            "chosen": _("Chosen: %(name)s"),
            "week": _("Week"),
            "day": _("Day"),
            "list": _("List"),
            "today": _("Go to today"),
            "times": _("Times"),
            "series": _("booked every week"),
        },
    }
    context = {
        "config": config,
        "colours": colours.COLOURS.values(),
        "marks": colours.MARKS.values(),
        "time_off_colour": colours.TIME_OFF,
        "busy_colour": colours.BUSY,
        "busy_connected": bool(therapist.busy_calendar_url),  # R38: the legend names the band only then
        "new_form": forms.NewSlotForm(initial=new_slot_initial(therapist)),
        "waiting": services.waitlist_count(therapist),  # R37: a count only, no names
    }
    return render(request, "therapist_pages/calendar.html", context)


def new_slot_initial(therapist: Therapist) -> dict:
    return {
        "date": local_today(therapist.tz),
        "duration_minutes": therapist.default_duration_minutes,
        "price": therapist.default_price,
        "kinds": therapist.default_modes,
        "audience": therapist.default_audience,
    }


@therapist_endpoint
@require_GET
def price(request):
    """R5's price for a length, for the edit form's price that follows the length until it
    is typed by hand: the rule stays in `Therapist.price_for`."""
    try:
        minutes = validate_duration(int(request.GET.get("minuter", "")))
    except (ValueError, ValidationError):
        return invalid({"duration_minutes": [_("Give the length in whole minutes.")]})
    return JsonResponse({"price": request.therapist.price_for(minutes)})


@therapist_endpoint
@require_POST
def slot_new(request):
    """A slot from the form (R2 without a mouse): date and time typed in her zone; and, if
    she asked, its weekly repeats in the same step (the same service as `slot_repeat`)."""
    therapist = request.therapist
    form = forms.NewSlotForm(request.POST)
    changes = form.changes(therapist.tz)
    if not changes:
        return invalid(form.errors)
    weeks = form.cleaned_data["weeks"]
    try:
        slot, repeated = services.slot_create_repeating(
            therapist=therapist, actor=request.user, weeks=weeks, **changes
        )
    except DomainError as e:
        return refused(e)
    except ValidationError as e:
        return invalid(e)
    message = _("New slot %(time)s.") % {"time": when(slot.start_at, therapist)}
    extra = {}
    if repeated is not None:
        message += " " + repeat_message(repeated)
        extra = repeat_summary(repeated)
    return done(message, slot=slot.pk, start=local(slot.start_at, therapist.tz).isoformat(), **extra)


@therapist_endpoint
@require_POST
def slot_range(request):
    """Back-to-back slots of the default length over a stretch marked in the calendar."""
    form = forms.RangeForm(request.POST)
    if not form.is_valid():
        return invalid(form.errors)
    try:
        slots = services.slot_create_many(
            therapist=request.therapist, actor=request.user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
    except DomainError as e:
        return refused(e)
    except ValidationError as e:
        return invalid(e)
    count = len(slots)
    return done(ngettext("%(count)d new slot.", "%(count)d new slots.", count) % {"count": count})


@therapist_endpoint
@require_GET
def slot(request, slot_id: int):
    """The booking view of one slot (R4, R6, R7, R10, R12–R15, R18) as a fragment for the
    calendar's dialog: what it is, its forms, and its history."""
    therapist = request.therapist
    slot = own_slot(request, slot_id)
    booking = slot.live_booking
    entries = list(selectors.slot_history(slot))
    start = local(slot.start_at, therapist.tz)
    edit_form = forms.SlotForm(
        initial={
            "date": start.date(), "time": start.time(), "duration_minutes": slot.duration_minutes,
            "price": slot.price, "kinds": slot.modes, "audience": slot.audience,
        },
        auto_id=f"slot{slot.pk}-%s",
    )
    context = {
        "slot": slot,
        "colour": colours.of(slot),
        "booking": booking,
        "start": start,
        "end": local(slot.end_at, therapist.tz),
        "has_begun": slot.start_at <= timezone.now(),
        "video": video_facts(booking),
        "edit_form": edit_form,
        "repeat_form": forms.RepeatForm(auto_id=f"slot{slot.pk}-%s"),
        "client_form": forms.DialogClientForm(auto_id=f"slot{slot.pk}-client-%s", form_id="slot-add-client"),
        "add_client_url": reverse("api-v1:clients"),
        "history": history.lines(entries, therapist),
        "outcomes": colours.outcomes(),
        "series_form": forms.SeriesForm(auto_id=f"slot{slot.pk}-series-%s"),
        "series_left": series_left(booking, therapist.tz),
    }
    context["series_until"] = context["series_left"][-1].start_at if context["series_left"] else None
    # Her booking view names the booked client (and the personnummer), and its history the
    # clients of earlier, cancelled bookings of the slot (R39).
    log_reads(request, [*([booking.client] if booking else []), *history.client_ids(entries)], What.BOOKING)
    return render(request, "therapist_pages/_slot.html", context)


def video_facts(booking: Booking | None) -> dict | None:
    """R29: her own link to a video booking's call, when it opens and whether it has closed."""
    if booking is None or booking.mode != VIDEO:
        return None
    opens, closes = booking.video_window()
    return {"url": booking.therapist_video_url, "opens": opens, "closed": closes <= timezone.now()}


@therapist_endpoint
@require_POST
def slot_edit(request, slot_id: int):
    """Ändra (R3–R7): date, time and length typed by hand; the price follows the length
    (R5) unless typed by hand. Moving a booked slot reschedules it and tells the client (R18)."""
    therapist = request.therapist
    slot = own_slot(request, slot_id)
    form = forms.SlotForm(request.POST)
    changes = form.changes(therapist.tz)
    if not changes:
        return invalid(form.errors)
    try:
        slot = services.slot_update(slot=slot, actor=request.user, **changes)
    except DomainError as e:
        return refused(e)
    except ValidationError as e:
        return invalid(e)
    return done(_("Saved: %(time)s, %(minutes)d min, %(price)d kr.") % {
        "time": when(slot.start_at, therapist), "minutes": slot.duration_minutes, "price": slot.price,
    })


@therapist_endpoint
@require_POST
def slot_delete(request, slot_id: int):
    """Ta bort (R10): only an open slot; a booked one says to cancel first."""
    slot = own_slot(request, slot_id)
    try:
        services.slot_delete(slot=slot, actor=request.user)
    except DomainError as e:
        return refused(e)
    return done(_("The slot %(time)s was removed.") % {"time": when(slot.start_at, request.therapist)}, closed=True)


@therapist_endpoint
@require_POST
def slot_repeat(request, slot_id: int):
    """Repeat weekly for N weeks, skipping the weeks where the time is taken, and saying which."""
    slot = own_slot(request, slot_id)
    form = forms.RepeatForm(request.POST)
    if not form.is_valid():
        return invalid(form.errors)
    try:
        result = services.slot_repeat_weekly(slot=slot, actor=request.user, weeks=form.cleaned_data["weeks"])
    except ValidationError as e:
        return invalid(e)
    return done(repeat_message(result), **repeat_summary(result))


def repeat_message(result: services.RepeatResult) -> str:
    """"Made 2 copies. Skipped: 26 January (taken)." in the page's language."""
    count = len(result.created)
    message = ngettext("Made %(count)d copy.", "Made %(count)d copies.", count) % {"count": count}
    if result.skipped:
        skipped = ", ".join(
            f"{formats.date_format(day, 'j F')} ({skip_reason(code)})" for day, code in result.skipped
        )
        message += " " + _("Skipped: %(weeks)s.") % {"weeks": skipped}
    return message


def repeat_summary(result: services.RepeatResult) -> dict:
    return {"created": len(result.created), "skipped": [day.isoformat() for day, _code in result.skipped]}


def skip_reason(code: str) -> str:
    if code == "dst":
        return _("the clock changes that night")
    return {Code.SLOT_OVERLAP: _("taken"), Code.SLOT_IN_PAST: _("passed"), Code.TIME_OFF: _("time off")}.get(code) \
        or str(MESSAGES[code])


@therapist_endpoint
@require_POST
def slot_book(request, slot_id: int):
    """Boka med klient → Slutför bokning (R12–R14): a client from her list, one offered kind."""
    therapist = request.therapist
    slot = own_slot(request, slot_id)
    form = forms.BookForm(request.POST)
    if not form.is_valid():
        return invalid(form.errors)
    # Through her list (the service's one path, as the API's): another therapist's client
    # answers like a stranger (nothing is learnt).
    try:
        booking = services.booking_create_by_therapist(
            therapist=therapist, slot=slot, client=form.cleaned_data["client"], mode=form.cleaned_data["mode"],
            actor=request.user,
        )
    except DomainError as e:
        return refused(e)
    client = booking.client
    log_reads(request, [client], What.BOOKING)
    return done(_("Booked: %(name)s, %(time)s. A confirmation was sent.") % {
        "name": f"{client.first_name} {client.last_name}", "time": when(booking.start_at, therapist),
    })


def series_left(booking: Booking | None, tz) -> list[Booking]:
    """R32: what "Avboka denna och följande" on this booking cancels, the series from its local
    date on (`series_bookings_from`; none when it is no series booking)."""
    if booking is None or booking.series_id is None:
        return []
    return list(services.series_bookings_from(booking.series_id, local(booking.start_at, tz).date(), tz))


@therapist_endpoint
@require_POST
def series_start(request, slot_id: int):
    """R32 "Boka varje vecka" in the booking view: the client and kind chosen there and the
    number of weeks; answers where the preview page is (nothing is booked yet)."""
    slot = own_slot(request, slot_id)
    form = forms.SeriesStartForm(request.POST)
    if not form.is_valid():
        return invalid(form.errors)
    query = {k: form.cleaned_data[k] for k in ("client", "mode", "weeks")}
    return done("", redirect=reverse("therapist_pages:series", args=[slot.pk]) + "?" + urlencode(query))


@therapist_required
def series(request, slot_id: int):
    """R32: the preview of a weekly series from this slot (GET), every week with whether it
    can be booked and why not; "Boka alla N" (POST) books them all or none."""
    therapist = request.therapist
    slot = own_slot(request, slot_id)
    form = forms.SeriesStartForm(request.POST if request.method == "POST" else request.GET)
    context = {"slot": slot, "form": form, "weeks": [], "refused": [], "error": ""}
    if not form.is_valid():
        context["error"] = " ".join(m for msgs in form.errors.values() for m in msgs)
        return render(request, "therapist_pages/series.html", context, status=422)
    # Through her own list, as every booking of hers: anyone else answers like a stranger.
    client = selectors.client_search(therapist).filter(pk=form.cleaned_data["client"]).first()
    if client is None:
        context["error"] = str(MESSAGES[Code.CLIENT_NOT_ON_LIST])
        return render(request, "therapist_pages/series.html", context, status=409)
    log_reads(request, [client], What.BOOKING)
    args = {
        "therapist": therapist, "client": client, "start": slot.start_at, "weeks": form.cleaned_data["weeks"],
        "mode": form.cleaned_data["mode"], "duration_minutes": slot.duration_minutes, "price": slot.price,
    }
    status = 200
    try:
        if request.method == "POST":
            created = services.series_create(**args, actor=request.user).created_bookings
            messages.success(request, ngettext(
                "Booked every week: %(name)s, %(count)d time from %(time)s. One e-mail with every date was sent.",
                "Booked every week: %(name)s, %(count)d times from %(time)s. One e-mail with every date was sent.",
                len(created),
            ) % {"name": f"{client.first_name} {client.last_name}", "count": len(created),
                 "time": when(created[0].start_at, therapist)})
            day = local(created[0].start_at, therapist.tz).date().isoformat()
            return redirect(reverse("therapist_pages:calendar") + "?" + urlencode({"datum": day}))
    except DomainError as e:  # a week refused since the preview was shown (SeriesConflict)
        context["error"], status = str(e.detail), 409
    except ValidationError as e:
        context["error"], status = " ".join(e.messages), 422
    try:
        context["weeks"] = services.series_preview(**args)
    except (DomainError, ValidationError) as e:
        context["error"] = context["error"] or " ".join(getattr(e, "messages", [str(getattr(e, "detail", e))]))
        status = 409 if isinstance(e, DomainError) else 422
    context["client"] = client
    context["refused"] = [w for w in context["weeks"] if not w.ok]
    return render(request, "therapist_pages/series.html", context, status=status)


@therapist_endpoint
@require_POST
def series_cancel(request, booking_id: int):
    """R32 "Avboka denna och följande": the series of this booking from its date on."""
    therapist = request.therapist
    booking = get_object_or_404(Booking.objects.select_related("client"), pk=booking_id, therapist=therapist)
    series_ = get_object_or_404(BookingSeries, pk=booking.series_id, therapist=therapist)
    try:
        cancelled = services.series_cancel(
            series=series_, from_date=local(booking.start_at, therapist.tz).date(), actor=request.user
        )
    except DomainError as e:
        return refused(e)
    log_reads(request, [booking.client], What.BOOKING)
    return done(ngettext(
        "%(count)d booking of %(name)s was cancelled and %(name)s was told in one e-mail.",
        "%(count)d bookings of %(name)s were cancelled and %(name)s was told in one e-mail.",
        len(cancelled),
    ) % {"count": len(cancelled), "name": booking.client.first_name})


@therapist_endpoint
@require_POST
def booking_cancel(request, booking_id: int):
    """R18: the therapist cancels; the slot opens again and the client is told."""
    booking = get_object_or_404(Booking.objects.select_related("client"), pk=booking_id, therapist=request.therapist)
    try:
        services.booking_cancel(booking=booking, actor=request.user)
    except DomainError as e:
        return refused(e)
    log_reads(request, [booking.client], What.BOOKING)
    return done(_("The booking was cancelled and %(name)s was told. The slot is open again.") % {
        "name": booking.client.first_name,
    })


@therapist_endpoint
@require_POST
def booking_outcome(request, booking_id: int):
    """R34: she records what happened at a visit that has begun (the booking view's buttons
    answer JSON; the client page's forms go back to the page with a message)."""
    booking = get_object_or_404(Booking.objects.select_related("client"), pk=booking_id, therapist=request.therapist)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        # An empty value clears the outcome (a withdrawn late cancellation); a missing one is refused.
        outcome = request.POST.get("outcome", "?") or None
        booking = services.booking_outcome_set(booking=booking, outcome=outcome, actor=request.user)
    except DomainError as e:
        if wants_json:
            return refused(e)
        messages.error(request, str(e.detail))
    except ValidationError as e:
        if wants_json:
            return invalid(e)
        messages.error(request, " ".join(e.messages))
    else:
        log_reads(request, [booking.client], What.BOOKING)
        text = _("Recorded for %(name)s: %(outcome)s.") % {
            "name": booking.client.first_name, "outcome": booking.get_outcome_display() or _("not recorded"),
        }
        if wants_json:
            return done(text)
        messages.success(request, text)
    return redirect("therapist_pages:client", booking.client_id)


@therapist_endpoint
@require_POST
def booking_video_link(request, booking_id: int):
    """R29: a new link for the therapist herself; the old one stops at once, the client's stays."""
    booking = get_object_or_404(Booking, pk=booking_id, therapist=request.therapist)
    try:
        services.booking_video_link_renew(booking=booking, party=video_rooms.THERAPIST, actor=request.user)
    except DomainError as e:
        return refused(e)
    return done(_("You have a new video link. The old one no longer works; the client's link is unchanged."))


# Clients ---------------------------------------------------------------------------------


@therapist_required
def clients(request):
    """R12, R13: her client list, searched by first name, and a form to add an own client."""
    therapist = request.therapist
    form = forms.ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_add(therapist=therapist, actor=request.user, **form.cleaned_data)
        except ValidationError as e:
            for field, msgs in e.message_dict.items():
                form.add_error(field if field in form.fields else None, msgs)
        except services.InvitationsThrottled:
            form.add_error(None, invitations_used_up())
        else:
            name = f"{client.first_name} {client.last_name}"
            if client.invited:
                messages.success(request, _("%(name)s is on your client list.") % {"name": name})
            else:
                messages.warning(request, _("%(name)s is on your client list, but no invitation could be sent to "
                                            "that address today. Send it again from her page tomorrow.") % {"name": name})
            return redirect("therapist_pages:clients")
    q = request.GET.get("q", "")[:150]
    found = list(selectors.client_search(therapist, q))
    log_reads(request, found, What.SEARCH if q.strip() else What.CLIENT_LIST)
    status = 422 if form.errors else 200
    return render(request, "therapist_pages/clients.html", {"form": form, "q": q, "clients": found}, status=status)


@therapist_required
@require_GET
def client(request, client_id: int):
    """One client of hers: her details and her bookings with this therapist, upcoming and past."""
    therapist = request.therapist
    person = get_object_or_404(selectors.client_search(therapist), pk=client_id)
    now = timezone.now()
    upcoming, past = selectors.upcoming_and_past(selectors.bookings_of_client_with(therapist, person), now)
    log_reads(request, [person], What.CLIENT_PAGE)
    return render(request, "therapist_pages/client.html", {
        "client": person, "upcoming": upcoming, "past": past, "first_visit": colours.COLOURS["yellow"],
        "now": now, "outcomes": colours.outcomes(),
        # R34: how often she came, did not come, or cancelled late (with this therapist).
        "outcome_counts": selectors.outcome_counts([*upcoming, *past]),
    })


@therapist_required
@require_POST
def client_invite(request, client_id: int):
    """Send the invitation again to an own client who has not accepted it (R26)."""
    person = get_object_or_404(selectors.client_search(request.therapist), pk=client_id, user__isnull=True)
    try:
        with transaction.atomic():
            sent = services.client_invitation_send(client=person, therapist=request.therapist, actor=request.user)
    except services.InvitationsThrottled:
        sent = False
    if sent:
        messages.success(request, _("The invitation was sent again to %(email)s.") % {"email": person.email})
    else:
        messages.error(request, invitations_used_up())
    return redirect("therapist_pages:client", person.pk)


def invitations_used_up() -> str:
    return _("No more invitations can be sent to that address, or by you, today. Try again tomorrow.")


# Settings and the calendar feed ----------------------------------------------------------


@therapist_required
def settings_page(request):
    """Inställningar: the defaults of new slots, her zone, where and how clients meet her,
    her profile, the cancellation cut-off; and the private calendar feed's address."""
    therapist = request.therapist
    form = forms.SettingsForm(request.POST or None, initial=forms.settings_initial(therapist))
    if request.method == "POST" and form.is_valid():
        try:
            services.therapist_settings_update(therapist=therapist, actor=request.user, **form.changes())
        except ValidationError as e:
            for field, msgs in e.message_dict.items():
                form.add_error(field if field in form.fields else None, msgs)
        else:
            messages.success(request, _("Your settings are saved. New slots use them; slots already made keep theirs."))
            return redirect("therapist_pages:settings")
    feed_url = request.build_absolute_uri(reverse("therapist_pages:feed", args=[therapist.calendar_feed_token]))
    busy_form = forms.BusyCalendarForm(initial={"busy_calendar_url": therapist.busy_calendar_url,
                                                "busy_show_titles": therapist.busy_show_titles})
    return render(
        request, "therapist_pages/settings.html", {"form": form, "feed_url": feed_url, **_busy_context(therapist, busy_form)},
        status=422 if form.errors else 200,
    )


def _busy_context(therapist, busy_form) -> dict:
    return {"busy_form": busy_form, "busy_synced_at": local(therapist.busy_synced_at, therapist.tz)
            if therapist.busy_synced_at else None, "busy_error": therapist.busy_error,
            "busy_connected": bool(therapist.busy_calendar_url)}


@therapist_required
@require_POST
def busy_calendar(request):
    """R38: her external calendar's address and whether her week shows its titles; a new
    address is fetched at once, so she sees at once whether it works."""
    therapist = request.therapist
    form = forms.BusyCalendarForm(request.POST)
    if form.is_valid():
        try:
            changed = form.cleaned_data["busy_calendar_url"].strip() != therapist.busy_calendar_url
            therapist = busy_calendar_set(therapist=therapist, actor=request.user, url=form.cleaned_data["busy_calendar_url"],
                                          show_titles=form.cleaned_data["busy_show_titles"])
        except ValidationError as e:
            for field, msgs in e.message_dict.items():
                form.add_error(field if field in form.fields else None, msgs)
        else:
            if changed and therapist.busy_calendar_url:
                busy_fetch(therapist)
            messages.success(request, _("Your other calendar is saved."))
            return redirect(reverse("therapist_pages:settings") + "#busy")
    settings_form = forms.SettingsForm(initial=forms.settings_initial(therapist))
    feed_url = request.build_absolute_uri(reverse("therapist_pages:feed", args=[therapist.calendar_feed_token]))
    return render(request, "therapist_pages/settings.html",
                  {"form": settings_form, "feed_url": feed_url, **_busy_context(therapist, form)}, status=422)


@therapist_required
@require_POST
def busy_calendar_fetch(request):
    """R38: "Hämta nu": fetch her external calendar now."""
    if busy_fetch(request.therapist) == "failed":
        messages.error(request, _("Your other calendar could not be fetched; see why below."))
    else:
        messages.success(request, _("Your other calendar has been fetched."))
    return redirect(reverse("therapist_pages:settings") + "#busy")


@therapist_required
@require_POST
def feed_regenerate(request):
    services.therapist_feed_token_regenerate(therapist=request.therapist, actor=request.user)
    messages.success(request, _("Your calendar feed has a new address. The old one no longer works."))
    return redirect(reverse("therapist_pages:settings") + "#feed")


@require_GET
def feed(request, token: str):
    """The private iCalendar feed: no login (a phone's calendar subscribes to it), so the
    unguessable token is the key; a wrong or revoked one is a 404."""
    if "\x00" in token:
        raise Http404
    therapist = get_object_or_404(Therapist.objects.select_related("user"), calendar_feed_token=token)
    now = timezone.now()
    slots = selectors.calendar_for_therapist(therapist, now - timedelta(days=30), now + timedelta(days=366))
    with translation.override(therapist.user.language or "sv"):
        body = calendar_feed(therapist, slots)
    # The feed names booked clients (first name and initial): read by her, through her phone.
    record_reads(actor=therapist.user, clients=[s.live_booking.client for s in slots if s.live_booking],
                 what=What.CALENDAR, surface=Surface.FEED)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response




# Time off (R36) --------------------------------------------------------------------------


def last_moment(end_at, tz):
    """R36: time off is [start, end); she reads its last minute (a whole week off ends "sön 23:59"),
    the same on the confirmation and in her list."""
    return local(end_at - timedelta(microseconds=1), tz)


@therapist_required
def time_off(request):
    """Ledighet: the form, then a confirmation of what it does (the open slots that go, the
    bookings inside that stay for her to move or cancel), then set; and her time off to come,
    each with "Ta bort". Without a script: plain forms."""
    therapist = request.therapist
    form = forms.TimeOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            start, end = form.bounds(therapist.tz)
            note = form.cleaned_data["note"]
            if "confirm" not in request.POST:
                preview = services.time_off_preview(therapist, start, end, note)
                log_reads(request, [b.client for b in preview.bookings], What.BOOKING)
                return render(request, "therapist_pages/time_off_confirm.html", {
                    "form": form, "preview": preview, "start": local(preview.start, therapist.tz),
                    "last": last_moment(preview.end, therapist.tz),
                })
            made, removed, inside = services.time_off_create(
                therapist=therapist, start=start, end=end, note=note, actor=request.user
            )
        except ValidationError as e:
            form.add_service_errors(e)
        else:
            message = ngettext("Time off is set: %(count)d open slot was removed.",
                               "Time off is set: %(count)d open slots were removed.", removed) % {"count": removed}
            if inside:
                message += " " + ngettext(
                    "%(count)d booking lies in it: move or cancel it.",
                    "%(count)d bookings lie in it: move or cancel them.", len(inside)) % {"count": len(inside)}
            messages.success(request, message)
            day = local(made.start_at, therapist.tz).date().isoformat()
            return redirect(reverse("therapist_pages:calendar") + f"?datum={day}")
    now = timezone.now()
    upcoming = request.therapist.time_off.filter(end_at__gt=now).order_by("start_at", "pk")
    return render(request, "therapist_pages/time_off.html", {
        "form": form,
        "upcoming": [{"time_off": t, "start": local(t.start_at, therapist.tz),
                      "last": last_moment(t.end_at, therapist.tz)} for t in upcoming],
    }, status=422 if form.errors else 200)


@therapist_required
@require_POST
def time_off_delete(request, time_off_id: int):
    time_off = get_object_or_404(request.therapist.time_off, pk=time_off_id)
    services.time_off_delete(time_off=time_off, actor=request.user)
    messages.success(request, _("The time off is removed. Slots removed when it was set are not made again."))
    return redirect("therapist_pages:time_off")
