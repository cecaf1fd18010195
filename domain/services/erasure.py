"""R41: a client erases her account; personal data of old bookings is erased after the
retention period. docs/privacy.md says what goes, what stays and why.

What stays after a person is erased is what her therapists need and may keep: each past
booking (its time, kind, price, status) stays in the therapist's calendar. A therapist who
added her herself (`ClientLink.source == own`: she typed the record, R26) keeps that record
of her, as she typed it, on her own list; for every other therapist her bookings move to an
anonymous placeholder (`Client.erased_at` set, no name, personnummer, address or account).
Everything else of hers goes: the account, the client profile, her list entries, her
sessions and API tokens, every mail to her address or about her bookings (pending or sent)
and their task results, her sign-up and reset requests, the rate counters that can be
found (their keys are hashes of the address and a source address: the erasing request's are
deleted, the rest expire with the daily sweep), the names in audit entries (ids are kept)
and in the admin's log.

Therapists and staff cannot erase themselves here (`account_not_erasable`): a practice's
records must not vanish with a click; staff do it by hand (docs/privacy.md)."""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ..errors import Code, DomainError
from ..models import AccountRequest, AuditEntry, Booking, BookingSeries, Client, ClientLink, OutboundEmail, User
from .accounts import LoginFailed, LoginThrottled, login_rate, verification_mail_rate
from .audit import audit_write
from .bookings import booking_cancel
from .listing import listing_refresh
from .throttle import rate_hit, rate_reset

# What an anonymous placeholder is called wherever a client's name is shown. Stored, like
# every name, as it is written: in Swedish, the practice's language.
PLACEHOLDER_FIRST_NAME, PLACEHOLDER_LAST_NAME = "Raderad", "klient"
_ID_KEY = re.compile(r"(^|_)id$")


def ids_only(data):
    """An audit entry's before/after with only its ids left (`client_id`, `slot_id`, …)."""
    if not isinstance(data, dict):
        return None
    return {k: v for k, v in data.items() if _ID_KEY.search(k) and (v is None or isinstance(v, int))}


def account_erase(*, user: User, password: str, source: str) -> None:
    """R41: the client erases her own account, proving it with her password (a stolen
    session or token alone cannot). The password is a guess like a log-in's: counted per
    account and source address first (LoginThrottled), then checked (LoginFailed)."""
    if user.is_staff or user.is_superuser or hasattr(user, "therapist") or not hasattr(user, "client"):
        raise DomainError(Code.ACCOUNT_NOT_ERASABLE)
    if not rate_hit(login_rate(), user.email, source):
        raise LoginThrottled
    if not user.check_password(str(password or "")):
        raise LoginFailed
    for rate in (login_rate(), verification_mail_rate()):
        rate_reset(rate, user.email, source)
    client_erase(client=user.client, keep_own_records=True)


def client_erase(*, client: Client, keep_own_records: bool, now: datetime | None = None) -> None:
    """Erase one person: her future bookings cancelled (each therapist told, anonymously),
    her past bookings handed to what each therapist keeps (see the module's docstring; with
    `keep_own_records` False, the retention's case, to placeholders only), and every trace of
    her removed. One transaction: all of it, or nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        client = Client.objects.select_for_update(of=("self",)).select_related("user").get(pk=client.pk)
        user = client.user
        addresses = {a.lower() for a in (client.email, user.email if user else "") if a}
        if user is None:
            # A therapist's record (the retention's case): its address may be a living
            # person's too, whose mail is none of this record's business.
            addresses = {a for a in addresses if not _address_in_use(a, client)}
        # Records that were merged into her profile (their own-client data, their audit entries).
        merged_ids = _merged_record_ids(client)
        own_records = _what_each_therapist_recorded(client, merged_ids) if keep_own_records else {}
        booking_ids = list(Booking.objects.filter(client=client).values_list("pk", flat=True))
        # Old mail first: the therapists' notices written by the cancellations below name
        # nobody and stay.
        _outbox_scrub(addresses=addresses, booking_ids=booking_ids)
        future = Booking.objects.live().filter(client=client, start_at__gt=now)
        for booking in future.order_by("start_at"):
            booking_cancel(booking=booking, actor=user, erasing=True, refresh_listing=False)
        therapist_ids = set(Booking.objects.filter(client=client).values_list("therapist_id", flat=True))
        for therapist_id in therapist_ids | set(own_records):
            fields = own_records.get(therapist_id)
            if fields is not None:
                keeper = Client.objects.create(**fields)
                ClientLink.objects.create(therapist_id=therapist_id, client=keeper, source=ClientLink.Source.OWN)
            else:
                keeper = placeholder_create(now=now)
            Booking.objects.filter(client=client, therapist_id=therapist_id).update(client=keeper)
            # R32: her weekly series with that therapist go with their bookings.
            BookingSeries.objects.filter(client=client, therapist_id=therapist_id).update(client=keeper)
            audit_write(actor=None, action="client.erased", target=keeper, therapist_id=therapist_id,
                        after={"client_id": keeper.pk})
        _audit_scrub(client_ids=[client.pk, *merged_ids], booking_ids=booking_ids, user=user)
        _admin_log_scrub(client_ids=[client.pk, *merged_ids], user=user)
        client.delete()  # her list entries go with it
        if user is not None:
            _account_scrub(user=user, addresses=addresses)
            user.delete()  # her API tokens go with it
        listing_refresh(therapist_ids)  # R9: her cancelled times are open again; last, see services.listing


def _address_in_use(address: str, client: Client) -> bool:
    return (User.objects.filter(email__iexact=address).exists()
            or Client.objects.filter(email__iexact=address, erased_at__isnull=True).exclude(pk=client.pk).exists())


def placeholder_create(*, now: datetime) -> Client:
    """An anonymous client standing for an erased person's past bookings with one therapist:
    on nobody's list, no account, nothing that says who she was."""
    return Client.objects.create(
        first_name=PLACEHOLDER_FIRST_NAME, last_name=PLACEHOLDER_LAST_NAME, email="", personnummer="",
        erased_at=now,
    )


def _merged_record_ids(client: Client) -> list[int]:
    """Therapists' records of her that `client_merge` joined to her profile (and deleted)."""
    joined = AuditEntry.objects.filter(action="client.joined", target_type="client", target_id=client.pk)
    return sorted({e.after["record_id"] for e in joined if isinstance(e.after, dict) and "record_id" in e.after})


def _what_each_therapist_recorded(client: Client, merged_ids: list[int]) -> dict[int, dict]:
    """For each therapist who added her herself (an `own` list entry), the record she keeps:
    the name and address she typed (the `client.added` entry of her record), else the
    profile's; the personnummer and phone her record gave the profile (`client_merge`)."""
    added = {
        e.therapist_id: e.after for e in AuditEntry.objects.filter(
            action="client.added", target_type="client", target_id__in=[client.pk, *merged_ids]
        ).order_by("at", "pk") if isinstance(e.after, dict)
    }
    kept = {}
    for link in ClientLink.objects.filter(client=client, source=ClientLink.Source.OWN):
        typed = added.get(link.therapist_id) or {}
        kept[link.therapist_id] = {
            "first_name": typed.get("first_name") or client.first_name,
            "last_name": typed.get("last_name") or client.last_name,
            "email": typed.get("email") or client.email,
            "personnummer": client.personnummer,
            "phone": client.phone,
            "language": client.language,
        }
    return kept


def _outbox_scrub(*, addresses: set[str], booking_ids: list[int]) -> None:
    """Every mail to her or about her bookings, whatever its state, and the task results
    that name those rows. A pending one's task then finds nothing and skips."""
    to = Q(pk__in=[])
    for address in addresses:
        to |= Q(to__iexact=address)
    mails = OutboundEmail.objects.filter(to | Q(booking_id__in=booking_ids))
    ids = list(mails.values_list("pk", flat=True))
    mails.delete()
    if ids:
        DBTaskResult.objects.filter(task_path__endswith=".send_email", args_kwargs__args__0__in=ids).delete()


def _audit_scrub(*, client_ids: list[int], booking_ids: list[int], user: User | None) -> None:
    """Audit entries about her keep who did what when, by ids only."""
    about = Q(target_type="client", target_id__in=client_ids) | Q(target_type="booking", target_id__in=booking_ids)
    if user is not None:
        about |= Q(target_type="user", target_id=user.pk) | Q(actor=user)
    audit_ids_only(AuditEntry.objects.filter(about))


def audit_ids_only(entries) -> int:
    """Reduce each entry's before/after to its ids; answers how many changed."""
    changed = []
    for entry in entries.exclude(before__isnull=True, after__isnull=True).only("pk", "before", "after").iterator():
        before, after = ids_only(entry.before), ids_only(entry.after)
        if (before, after) != (entry.before, entry.after):
            entry.before, entry.after = before, after
            changed.append(entry)
    AuditEntry.objects.bulk_update(changed, ["before", "after"], batch_size=500)
    return len(changed)


def _admin_log_scrub(*, client_ids: list[int], user: User | None) -> None:
    """The admin's history names the object it changed (`object_repr`) and what changed."""
    objects = Q(content_type=ContentType.objects.get_for_model(Client), object_id__in=[str(i) for i in client_ids])
    if user is not None:
        objects |= Q(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk))
    LogEntry.objects.filter(objects).update(object_repr=Concat(Value("#"), F("object_id")), change_message="")


def _account_scrub(*, user: User, addresses: set[str]) -> None:
    """What of the account lives outside its own rows: sessions (their data names the user
    by id: every live one is read), sign-up and reset requests for her address."""
    uid = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == uid:
            session.delete()
    for address in addresses:
        AccountRequest.objects.filter(email__iexact=address).delete()


# Retention ----------------------------------------------------------------------------------


def retention_cutoff(now: datetime) -> datetime:
    """RETENTION_YEARS before `now` (29 February falls back to the 28th)."""
    years = settings.RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def personal_data_erase_expired(*, now: datetime | None = None) -> dict[str, int]:
    """R41's retention: a person whose last booking ended more than RETENTION_YEARS ago (or
    who has none), whose record is that old and who has not logged in since, is erased as
    above, but every therapist's part goes to a placeholder too: the period is over for the
    therapists' records as well. Audit entries older than the period keep ids only.
    Answers what was done, for the command's output."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    recent = Booking.objects.filter(client=OuterRef("pk"), end_at__gte=cutoff)
    expired = (
        Client.objects.filter(erased_at__isnull=True, created_at__lt=cutoff)
        .exclude(user__last_login__gte=cutoff)
        .exclude(user__date_joined__gte=cutoff)
        .exclude(user__is_staff=True)
        .exclude(Exists(recent))
    )
    erased = 0
    for client in expired.iterator():
        client_erase(client=client, keep_own_records=False, now=now)
        erased += 1
    with transaction.atomic():
        audited = audit_ids_only(AuditEntry.objects.filter(at__lt=cutoff))
    return {"clients": erased, "audit_entries": audited}


# The daily pruning of tables that only grow ---------------------------------------------------

# How long what is only kept for a while is kept (docs/privacy.md). The mail periods are
# settings (OUTBOX_KEEP_DAYS, TASK_RESULTS_KEEP_DAYS); these are fixed.
ACCOUNT_REQUEST_KEEP = timedelta(days=7)  # the worker deletes each as it handles it; these it never did
RATE_COUNTER_KEEP = timedelta(days=1)  # the longest window any limit reads is a day


def tables_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what nobody needs any more: sent (and failed) mails after OUTBOX_KEEP_DAYS,
    finished task results after TASK_RESULTS_KEEP_DAYS, account requests the worker never
    handled, expired sessions, rate counters whose window is long over, and access records older
    than the retention period (R39: the log lives as long as the data it accounts for)."""
    from django_tasks_db.models import TaskResultStatus

    from .access_log import access_log_prune
    from .throttle import rate_counters_sweep

    now = now or timezone.now()
    done = {}
    done["outbox"] = OutboundEmail.objects.filter(
        status__in=[OutboundEmail.Status.SENT, OutboundEmail.Status.FAILED],
        created_at__lt=now - timedelta(days=settings.OUTBOX_KEEP_DAYS),
    ).delete()[0]
    done["task_results"] = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=now - timedelta(days=settings.TASK_RESULTS_KEEP_DAYS),
    ).delete()[0]
    done["account_requests"] = AccountRequest.objects.filter(created_at__lt=now - ACCOUNT_REQUEST_KEEP).delete()[0]
    done["sessions"] = Session.objects.filter(expire_date__lt=now).delete()[0]
    done["rate_counters"] = rate_counters_sweep(RATE_COUNTER_KEEP)
    # The access log (R39) is kept as long as the data it accounts for.
    done["access_records"] = access_log_prune(before=retention_cutoff(now))
    return done


def daily_jobs(*, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """What the worker's scheduler runs once a day (`manage.py serve`)."""
    return {"erased": personal_data_erase_expired(now=now), "pruned": tables_prune(now=now)}
