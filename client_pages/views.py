"""The client's side of Tidbok (issue 4): find a therapist (R9), match, a therapist's week
of open times (R7, R8), book (R17), Mina bokningar (R21) with cancelling (R18) and moving
(R33), the video
link (R20, R29), and the accounts behind them. Each view parses, fetches through the owner,
calls one service and renders; the rules are the domain's."""

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, get_language_info, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domain import selectors, services
from domain import video as video_rooms
from domain.backends import source_address
from domain.errors import DomainError
from domain.matching import Wish, therapists_matching
from domain.models import PASSWORD_MAX_LENGTH, Slot, Therapist, User, WaitlistEntry
from domain.privacy import POLICY_VERSION
from domain.timezones import date_from_text, local, local_today, monday_of, week_bounds
from tidbok.http import safe_next
from tidbok.replica import public_read

from .forms import (
    BookForm,
    ChoosePasswordForm,
    FindForm,
    MatchForm,
    OutboxPasswordResetForm,
    SignupForm,
    WaitlistForm,
)

BACKEND = "domain.backends.EmailBackend"


def viewer_client(request):
    """The logged-in client, or None for a visitor, a therapist or staff."""
    return getattr(request.user, "client", None) if request.user.is_authenticated else None


def language_name(code: str) -> str:
    try:
        name = str(get_language_info(code)["name_translated"])
    except KeyError:
        return code
    return name.lower() if get_language().startswith("sv") else name  # "svenska", but "Swedish"


# R9: the listing -----------------------------------------------------------------------------


# A page of "Hitta terapeut": a screenful of cards; "Visa fler" opens the next.
FIND_PAGE = 20


@public_read
def find(request):
    form = FindForm(request.GET or None, choices=selectors.listing_choices(), language_name=language_name)
    page, cursor_error, next_query = None, "", ""
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        f = form.cleaned_data if form.is_bound else {}
        try:
            page = selectors.listing_page(
                f.get("mode") or None, cursor=request.GET.get("cursor", ""), limit=FIND_PAGE,
                city=f.get("city", ""), language=f.get("language", ""), area=f.get("area", ""),
            )
        except ValidationError as e:
            status, cursor_error = 400, " ".join(e.message_dict["cursor"])
    query = request.GET.copy()  # the filters stay as they are on every page
    query.pop("cursor", None)
    first_query = query.urlencode()
    if page and page.cursor:
        query["cursor"] = page.cursor
        next_query = query.urlencode()
    context = {
        "form": form, "therapists": page.therapists if page else [], "next_query": next_query,
        "later_page": bool(page and request.GET.get("cursor")), "cursor_error": cursor_error,
        "first_query": first_query,
        "mode": form.is_bound and form.is_valid() and form.cleaned_data["mode"],
    }
    return render(request, "client_pages/find.html", context, status=status)


REASONS = {
    "area": lambda v: _("Works with %(area)s.") % v,
    "mode": lambda v: _("Offers video calls.") if v["mode"] == "video" else _("Meets on site."),
    "language": lambda v: _("Speaks %(language)s.") % {"language": language_name(v["language"])},
    "times": lambda v: ngettext(
        "%(count)d open time on the days and at the times you chose: %(first)s.",
        "%(count)d open times on the days and at the times you chose; the first %(first)s.",
        v["count"],
    ) % {"count": v["count"], "first": local_text(v["first"])},
    "other_times": lambda v: _("No open time on the days and at the times you chose; the next is %(first)s.")
    % {"first": local_text(v["first"])},
    "no_times": lambda v: _("No open times in the next four weeks."),
}


def local_text(dt: datetime) -> str:
    return f"{formats.date_format(dt, 'l j F')} {dt:%H:%M}"


@public_read
def match(request):
    form = MatchForm(request.GET or None, choices=selectors.listing_choices(), language_name=language_name)
    results = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            f = form.cleaned_data
            wish = Wish(area=f["area"], mode=f["mode"], language=f["language"], days=frozenset(f["days"]),
                        parts=frozenset(f["parts"]))
            results = [
                {"match": m, "reasons": [REASONS[code](values) for code, values in m.reasons]}
                for m in therapists_matching(wish)
            ]
        else:
            status = 400
    return render(request, "client_pages/match.html", {"form": form, "results": results}, status=status)


# R7, R8: a therapist's week ------------------------------------------------------------------


@public_read
def profile(request, therapist_id: int):
    therapist = get_object_or_404(Therapist.objects.select_related("user"), pk=therapist_id)
    client = viewer_client(request)
    if not selectors.therapist_visible_to(therapist, client):
        raise Http404
    tz = therapist.tz
    entry = WaitlistEntry.objects.filter(client=client, therapist=therapist).first() if client else None
    context = {
        "therapist": therapist,
        "languages": [language_name(c) for c in therapist.languages or []],
        "waitlist_entry": entry,
        "waitlist_form": _waitlist_form(entry) if client else None,
        **_week_of_open_slots(request, selectors.open_slots_for_viewer(therapist, client), tz),
    }
    with timezone.override(tz):
        return render(request, "client_pages/profile.html", context)


def _waitlist_form(entry, data=None) -> WaitlistForm:
    initial = {} if entry is None else {
        "weekdays": entry.weekdays, "from_time": entry.from_time, "to_time": entry.to_time, "modes": entry.modes,
    }
    return WaitlistForm(data, initial=initial)


@login_required
@require_POST
def waitlist_join(request, therapist_id: int):
    """R37: "Meddela mig när en tid blir ledig" on her profile: join (or change) the wait list."""
    client = _client_or_home(request)
    therapist = get_object_or_404(Therapist.objects.select_related("user"), pk=therapist_id)
    form = _waitlist_form(None, request.POST)
    if form.is_valid():
        try:
            _entry, created = services.waitlist_join(client=client, therapist=therapist, actor=request.user,
                                                     **form.cleaned_data)
        except Therapist.DoesNotExist:
            raise Http404 from None
        except ValidationError as e:
            for field, errors in e.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("You are on the wait list. We e-mail you when a time that suits you opens.")
                             if created else _("Your wait list wishes are saved."))
            return redirect("client_pages:bookings")
    if not selectors.therapist_visible_to(therapist, client):
        raise Http404
    context = {
        "therapist": therapist, "languages": [language_name(c) for c in therapist.languages or []],
        "waitlist_entry": WaitlistEntry.objects.filter(client=client, therapist=therapist).first(),
        "waitlist_form": form, **_week_of_open_slots(request, selectors.open_slots_for_viewer(therapist, client),
                                                     therapist.tz),
    }
    with timezone.override(therapist.tz):
        return render(request, "client_pages/profile.html", context, status=422)


@login_required
@require_POST
def waitlist_leave(request, therapist_id: int):
    """R37: "Lämna kön" on Mina bokningar."""
    client = _client_or_home(request)
    try:
        services.waitlist_leave(client=client, therapist=therapist_id, actor=request.user)
    except WaitlistEntry.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("You have left the wait list."))
    return redirect(reverse("client_pages:bookings") + "#vantelista")


def _week_of_open_slots(request, visible, tz) -> dict:
    """One week (`?vecka=` a day in it; else the week of the first open time) of the open
    slots in `visible`, day by day in the therapist's zone, with the weeks before and after:
    her profile's week, and the times a booking can be moved to (R33)."""
    week_text = request.GET.get("vecka", "")
    try:
        day = date_from_text(week_text) if week_text else None
    except ValueError:  # not a date, or one outside the years anyone may type
        day = None
        messages.error(request, _("That is not a date; showing the coming week instead."))
    if day is None:
        first = visible.first()
        day = local_today(tz, first.start_at if first else None)
    monday = monday_of(day)
    start, end = week_bounds(monday, tz)
    slots = list(visible.filter(start_at__lt=end, end_at__gt=start))
    days = []
    for i in range(7):
        d = monday + timedelta(days=i)
        days.append({"date": d, "slots": [s for s in slots if local_today(tz, s.start_at) == d]})
    return {
        "days": days,
        "any_this_week": bool(slots),
        "next_slot": None if slots else visible.filter(start_at__gte=end).first(),
        "previous_week": (monday - timedelta(days=7)).isoformat(),
        "next_week": (monday + timedelta(days=7)).isoformat(),
        "monday": monday,
        "is_past_week": end <= timezone.now(),
    }


def _visible_open_slot(request, slot_id: int) -> Slot | None:
    """The slot if it is open and this viewer may see it (R7–R9); else None, the same for a
    slot that does not exist, is booked or is hidden from her."""
    slot = Slot.objects.select_related("therapist__user").filter(pk=slot_id).first()
    if slot is None:
        return None
    return selectors.open_slots_for_viewer(slot.therapist, viewer_client(request)).filter(pk=slot.pk).first() and slot


def book(request, slot_id: int):
    slot = _visible_open_slot(request, slot_id)
    if slot is None:
        return render(request, "client_pages/slot_gone.html", status=404)
    client = viewer_client(request)
    chosen = request.GET.get("mode")
    account = request.GET.get("account")
    if client is None and account in ("login", "signup") and chosen in slot.modes:
        # Keep the choice through logging in or signing up: both come back here with it.
        back = f"{reverse('client_pages:book', args=[slot.pk])}?{urlencode({'mode': chosen})}"
        target = "login" if account == "login" else "client_pages:signup"
        return redirect(f"{reverse(target)}?{urlencode({'next': back})}")
    data = request.POST if request.method == "POST" else ({"mode": chosen or ""} if account else None)
    form = BookForm(data, modes=slot.modes, initial_mode=chosen)
    status = 400 if account and not form.is_valid() else 200
    if request.method == "POST":
        if client is None:
            return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
        if form.is_valid():
            try:
                booking = services.booking_create_by_client(
                    client=client, slot=slot, mode=form.cleaned_data["mode"], actor=request.user
                )
            except Slot.DoesNotExist:
                return render(request, "client_pages/slot_gone.html", status=404)
            except DomainError as e:
                form.add_error(None, e.detail)
                status = 409
            else:
                messages.success(request, _("Your booking is confirmed. A confirmation is on its way to %(email)s.")
                                 % {"email": client.email})
                return redirect("client_pages:booking", booking.pk)
        else:
            status = 400
    context = {"slot": slot, "therapist": slot.therapist, "form": form, "client": client,
               "is_therapist": request.user.is_authenticated and client is None}
    with timezone.override(slot.therapist.tz):
        return render(request, "client_pages/book.html", context, status=status)


# R21: Mina bokningar ------------------------------------------------------------------------


def _client_or_home(request):
    client = viewer_client(request)
    if client is None:
        raise Http404  # a therapist or staff has no bookings of her own here
    return client


@login_required
def bookings(request):
    client = viewer_client(request)
    if client is None:
        return redirect("home")
    now = timezone.now()
    bookings = list(selectors.bookings_for_client(client))
    cancelled = [b for b in bookings if not b.is_confirmed]  # the latest first
    upcoming, past = selectors.upcoming_and_past((b for b in bookings if b.is_confirmed), now)
    waitlist = client.waitlist_entries.select_related("therapist__user")
    return render(request, "client_pages/bookings.html", {
        "upcoming": upcoming, "past": past, "cancelled": cancelled, "now": now, "waitlist": waitlist,
    })


ACCESS_LOG_PAGE_SIZE = 50


@login_required
def access_log(request):
    """R39: "Vem har läst mina uppgifter": every read of her personal data by a therapist or
    staff, newest first, a page at a time (`?sida=`; a page out of range shows the last)."""
    client = _client_or_home(request)
    page = Paginator(selectors.access_log_of(client), ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("sida"))
    return render(request, "client_pages/access_log.html", {
        "page": page, "lines": selectors.access_log_lines(page.object_list),
    })


@login_required
def booking_detail(request, booking_id: int):
    client = _client_or_home(request)
    booking = get_object_or_404(selectors.bookings_for_client(client), pk=booking_id)
    return render(request, "client_pages/booking.html", {
        "b": booking, "now": timezone.now(), "moves": _moves_in_words(booking),
    })


def _moves_in_words(booking) -> list[str]:
    """R33, R18: each move of her booking, who made it (she, her therapist, or Tidbok's staff
    named as Tidbok), from when to when, in the therapist's zone."""
    tz = booking.therapist.tz

    def when(text):
        return formats.date_format(local(datetime.fromisoformat(text), tz), "l j F H:i") if text else "?"

    lines = []
    for entry in selectors.booking_moves(booking):
        times = {"old": when(entry.before and entry.before.get("start")),
                 "new": when(entry.after and entry.after.get("start"))}
        if entry.actor_id and entry.actor_id == booking.client.user_id:
            lines.append(_("You moved it from %(old)s to %(new)s.") % times)
        elif entry.actor_id and entry.actor_id == booking.therapist.user_id:
            lines.append(_("%(name)s moved it from %(old)s to %(new)s.") % {**times, "name": booking.therapist.full_name})
        else:
            lines.append(_("It was moved from %(old)s to %(new)s.") % times)
    return lines


@login_required
@require_http_methods(["GET", "POST"])
def booking_cancel(request, booking_id: int):
    """R18: "Avboka" asks first. GET is the question (the booking, what cancelling means, or
    why it is too late and whom to contact); its form POSTs the cancellation. A page, not a
    script's confirm(), so it works under the CSP and without JavaScript."""
    client = _client_or_home(request)
    booking = get_object_or_404(selectors.bookings_for_client(client), pk=booking_id)
    if request.method == "GET":
        return render(request, "client_pages/cancel.html", {"b": booking, "now": timezone.now()})
    try:
        services.booking_cancel(booking=booking, actor=request.user)
    except DomainError as e:
        messages.error(request, e.detail)
    else:
        messages.success(request, _("The booking is cancelled. The time is open for others again."))
    return redirect("client_pages:bookings")


# R33: she moves her booking ------------------------------------------------------------------


def _movable(request, booking_id: int):
    """Her own booking (another's is missing) and whether she may move it now: while she may
    cancel it (R18's cut-off, `Booking.client_may_cancel`), as the service decides too."""
    client = _client_or_home(request)
    booking = get_object_or_404(selectors.bookings_for_client(client), pk=booking_id)
    return client, booking, booking.start_at > timezone.now() and booking.client_may_cancel()


@login_required
@require_GET
def booking_move(request, booking_id: int):
    """R33, "Flytta": the open times of her therapist she may book (R7–R9, inside the booking
    window R35: `selectors.open_slots_for_viewer`, as on the profile), a week at a time; each
    leads to the question. After her cut-off the page says why she cannot, and whom to ask."""
    client, booking, movable = _movable(request, booking_id)
    therapist = booking.therapist
    context = {"b": booking, "therapist": therapist, "movable": movable, "now": timezone.now()}
    if movable:
        context.update(_week_of_open_slots(request, selectors.open_slots_for_viewer(therapist, client), therapist.tz))
    with timezone.override(therapist.tz):
        return render(request, "client_pages/move.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def booking_move_to(request, booking_id: int, slot_id: int):
    """R33: "Flytta hit?" GET shows the old time and the new, with the kind of meeting (hers,
    if the new time offers it); POST moves the booking (`services.booking_move`, one step)
    and goes to her booking's page. A time she may not see, or that went, is the slot-gone
    page; a refusal is said on the question, which she can answer again or leave."""
    client, booking, movable = _movable(request, booking_id)
    if not movable:
        return redirect("client_pages:move", booking.pk)
    slot = _visible_open_slot(request, slot_id)
    if slot is None or slot.therapist_id != booking.therapist_id:
        return render(request, "client_pages/slot_gone.html", status=404)
    form = BookForm(request.POST if request.method == "POST" else None, modes=slot.modes, initial_mode=booking.mode)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.booking_move(booking=booking, slot=slot, mode=form.cleaned_data["mode"], actor=request.user)
            except Slot.DoesNotExist:
                return render(request, "client_pages/slot_gone.html", status=404)
            except DomainError as e:
                form.add_error(None, e.detail)
                status = 409
            except ValidationError as e:
                form.add_error(None, " ".join(e.messages))
            else:
                messages.success(request, _("Your booking is moved. The new time is on its way to %(email)s.")
                                 % {"email": client.email})
                return redirect("client_pages:booking", booking.pk)
    context = {"b": booking, "slot": slot, "therapist": slot.therapist, "form": form, "now": timezone.now()}
    with timezone.override(slot.therapist.tz):
        return render(request, "client_pages/move_to.html", context, status=status)


# R20, R29: the video link ------------------------------------------------------------------


def video(request, token: str):
    """R20, R29: either party's link is the key, whoever holds it, logged in or not (an own
    client has no password; a therapist opens hers from her phone's calendar). Before the
    window a page saying when it opens (200, no room link), inside it straight to the room
    (302, with the party's Jitsi token when configured), after the end 410; a cancelled
    booking's links, and unknown keys, 404. A link may be forwarded, so the page shows the
    therapist's name and the time, never the client: the template gets nothing of her."""
    if "\x00" in token:
        raise Http404  # no token holds one, and PostgreSQL cannot even compare it (a 500)
    found = selectors.booking_for_video_link(token)
    if found is None:
        raise Http404
    booking, party = found
    opens, closes = booking.video_window()
    now = timezone.now()
    if opens <= now < closes:
        return HttpResponseRedirect(video_rooms.room_url(booking, party))
    tz = booking.therapist.tz
    context = {
        "therapist_name": booking.therapist.full_name,
        "for_therapist": party == video_rooms.THERAPIST,
        "opens": local(opens, tz),
        "minutes": booking.video_opens_minutes,
        "start": local(booking.start_at, tz),
        "closed": now >= closes,
        "countdown": {"opens": opens.isoformat(), "now": now.isoformat()},
    }
    # Templates show aware times in the active zone; make that the therapist's (R22).
    with timezone.override(tz):
        response = render(request, "client_pages/video.html", context, status=410 if now >= closes else 200)
    response["Cache-Control"] = "no-store"
    return response


def practice_room(request, room: str):
    """Where a link leads while VIDEO_BASE_URL points at Tidbok itself (as `make run` does):
    it says that the call would open here and how to connect a real Jitsi, so the whole way
    to the room works on a laptop without a video service. Anywhere else it does not exist."""
    rooms_here = settings.SITE_URL + reverse("practice_room", args=["-"]).removesuffix("-")
    if not settings.VIDEO_BASE_URL.startswith(rooms_here):
        raise Http404
    return render(request, "client_pages/practice_room.html", {"room": room})


@login_required
@require_POST
def video_link_renew(request, booking_id: int):
    """R29: a new link for the client herself; the old one stops at once."""
    client = _client_or_home(request)
    booking = get_object_or_404(selectors.bookings_for_client(client), pk=booking_id)
    try:
        services.booking_video_link_renew(booking=booking, party=video_rooms.CLIENT, actor=request.user)
    except DomainError as e:
        messages.error(request, e.detail)
    else:
        messages.success(request, _("You have a new video link. The old one no longer works."))
    return redirect("client_pages:booking", booking.pk)


# Accounts -----------------------------------------------------------------------------------


def signup(request):
    """R26, R27: the same page for every well-formed sign-up ("check your e-mail"), whoever
    the address or the personnummer belongs to; the link in the mail logs her in and returns
    to `next` (the slot she wanted)."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next") or "",
                         reverse("client_pages:bookings"))
    if request.user.is_authenticated:
        return redirect(next_url)
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            f = form.cleaned_data
            try:
                services.account_signup_request(
                    role="client", email=f["email"], password=f["password"], first_name=f["first_name"],
                    last_name=f["last_name"], personnummer=f["personnummer"], language=get_language()[:2],
                    next_url=next_url, source=source_address(request), accept_privacy_policy=POLICY_VERSION,
                )
            except services.AccountRequestsThrottled:
                form.add_error(None, _("Too many sign-ups from your address. Try again in an hour."))
                status = 429
            except ValidationError as e:
                for field, errors in e.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return render(request, "client_pages/signup_sent.html", {"email": f["email"]})
    return render(request, "client_pages/signup.html",
                  {"form": form, "next": next_url, "policy_version": POLICY_VERSION}, status=status)


class ConfirmForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Password"), max_length=PASSWORD_MAX_LENGTH, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def verify_email(request, uidb64: str, token: str):
    """R27: the link in the verification mail. GET shows the address and asks for the
    password chosen at sign-up (a mail scanner that follows links cannot use it up, and a
    link alone never hands anyone an account whose password someone else chose); POST
    verifies, logs her in and goes on to where she was going."""
    user = _user_of_link(uidb64)
    valid = user is not None and services.email_verification_token.check_token(user, token)
    next_url = safe_next(request, request.GET.get("next", ""), reverse("home"))
    with_password = user is not None and user.has_usable_password()
    data = request.POST if request.method == "POST" else None
    form = ConfirmForm(data) if with_password else forms.Form(data)
    status = 200 if valid else 400
    if request.method == "POST" and valid and form.is_valid():
        try:
            verified = services.email_verify(
                user=user, token=token, password=form.cleaned_data.get("password"), source=source_address(request)
            )
        except services.LoginThrottled:
            form.add_error(None, services.LoginThrottled.message())
            status = 429
        except services.LoginFailed:
            form.add_error("password", _("That is not the password this account was created with."))
            status = 400
        else:
            if verified and (with_password or _proved_here(request, user)):
                login(request, user, backend=BACKEND)
                messages.success(request, _("Your e-mail address is confirmed. Welcome to Tidbok!"))
                return redirect(next_url)
            if verified:
                messages.success(request, _("Your e-mail address is confirmed. Log in with BankID."))
                return redirect("login")
            valid, status = False, 400
    context = {"valid": valid, "next": next_url, "form": form, "email": user.email if valid else "",
               "with_password": with_password, "already": user is not None and user.email_verified}
    return render(request, "client_pages/verify_email.html", context, status=status)


def _proved_here(request, user) -> bool:
    """An account made with an eID (no password) is logged in by its verification link only
    in the browser that proved its personnummer (docs/security.md, "eID log-in")."""
    from domain.services.eid import EID_PROOF_SESSION_KEY, eid_proof

    client = getattr(user, "client", None)
    proof = request.session.get(EID_PROOF_SESSION_KEY)
    return bool(client and client.personnummer_verified and proof and proof == eid_proof(client.personnummer))


def _user_of_link(uidb64: str):
    from django.utils.encoding import force_str
    from django.utils.http import urlsafe_base64_decode

    from domain.models import User

    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first() if 0 < pk < 2**63 else None


def invitation(request, token: str):
    """R26: a therapist's invitation to her own client. Following it proves the mailbox, so:
    without an account for the address she chooses a password and is in; with one, she logs
    in to it (the link alone does not log in to an account someone already uses) and joins."""
    record = services.invitation_record(token)
    if record is None:
        return render(request, "client_pages/invitation.html", {"valid": False}, status=400)
    account = services.invitation_account(record)
    existing = account is not None and not services.is_waiting_for_verification(account)
    logged_in = request.user if request.user.is_authenticated else None
    is_owner = existing and logged_in is not None and logged_in.pk == account.pk
    therapist = Therapist.objects.select_related("user").filter(client_links__client=record).first()
    form = None if existing else ChoosePasswordForm(User(email=record.email), request.POST or None)
    context = {"valid": True, "record": record, "therapist": therapist, "existing": existing, "form": form,
               "is_owner": is_owner, "someone_else": logged_in is not None and not is_owner}
    if request.method == "POST":
        try:
            if existing:
                if logged_in is None:
                    return redirect_to_login(request.get_full_path())
                user = services.client_invitation_accept(record=record, user=logged_in)
            elif form.is_valid():
                user = services.client_invitation_accept(
                    record=record, password=form.cleaned_data["new_password1"], user=logged_in
                )
            else:
                return render(request, "client_pages/invitation.html", context, status=400)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
            return render(request, "client_pages/invitation.html", context, status=409)
        if not request.user.is_authenticated:
            login(request, user, backend=BACKEND)
        messages.success(request, _("You are connected to %(name)s. Your bookings are below.")
                         % {"name": therapist.full_name if therapist else "Tidbok"})
        return redirect("client_pages:bookings")
    return render(request, "client_pages/invitation.html", context)


class PasswordReset(auth_views.PasswordResetView):
    """The same answer for every address (R26); at most ACCOUNT_REQUESTS_PER_HOUR requests
    from one source address."""

    form_class = OutboxPasswordResetForm
    template_name = "client_pages/password_reset.html"
    success_url = reverse_lazy("client_pages:password_reset_done")

    def form_valid(self, form):
        try:
            services.password_reset_request(email=form.cleaned_data["email"], source=source_address(self.request))
        except services.AccountRequestsThrottled:
            form.add_error(None, _("Too many requests from your address. Try again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "client_pages/password_reset_done.html"


class PasswordSet(auth_views.PasswordResetConfirmView):
    """Both the reset link and a therapist's invitation (an own client's first password)."""

    form_class = ChoosePasswordForm
    template_name = "client_pages/password_set.html"
    success_url = reverse_lazy("client_pages:password_set_done")
    post_reset_login = True
    post_reset_login_backend = "domain.backends.EmailBackend"


class PasswordSetDone(auth_views.PasswordResetCompleteView):
    template_name = "client_pages/password_set_done.html"
