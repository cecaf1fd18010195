"""Staff's view: people, calendars, the audit trail and the outbox. Client Booster is switched
here (R9) through the same service as the management command."""

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from .models import (
    AccessRecord,
    ApiToken,
    AuditEntry,
    Booking,
    Client,
    ClientLink,
    OutboundEmail,
    Slot,
    Therapist,
    TimeOff,
    User,
)
from .services import LoginThrottled, client_booster_set, listing_refresh, two_factor
from .services.access_log import record_reads


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's log-in goes through the same throttle as every other (R28: the backend);
    this only says why when it refuses."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "login_throttled", False):
                raise ValidationError(LoginThrottled.message(), code="throttled")
            raise


admin.site.login_form = ThrottledAdminLoginForm
# Django's own header says "Django administration"; the admin speaks the visitor's language
# like the rest of the site (LocaleMiddleware: the language switch's cookie, else Swedish).
admin.site.site_header = _("Tidbok administration")
admin.site.site_title = _("Tidbok administration")


# Django stores a permission's name in English when it migrates ("Can add booking") and shows
# it as it is stored; these say the same in the visitor's language.
PERMISSION_WORDS = {
    "add": _("Can add %(model)s"), "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"), "view": _("Can view %(model)s"),
}


def permission_label(permission) -> str:
    action, _sep, model_name = permission.codename.partition("_")
    model = permission.content_type.model_class()
    if action not in PERMISSION_WORDS or model is None or model._meta.model_name != model_name:
        return str(permission)
    meta = model._meta
    words = PERMISSION_WORDS[action] % {"model": meta.verbose_name}
    return f"{capfirst(meta.app_config.verbose_name)} | {capfirst(meta.verbose_name)} | {words}"


class PermissionsInWords:
    """Permission choices (a group's, a user's) labelled by `permission_label`."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request=request, **kwargs)
        if db_field.name in ("permissions", "user_permissions"):
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field


class ReadOnly:
    """A record staff may read but not add, change or delete here (a trail of what happened)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LogsClientReads:
    """R39: staff reading a client's personal data in the admin is logged, like any other
    reader's: the change list logs the clients on the page shown, and a record's change,
    history and delete pages the clients that record shows. `clients_shown(obj)` names them
    (instances, or ids)."""

    list_shows_clients = True

    def clients_shown(self, obj) -> list:
        raise NotImplementedError

    def _log(self, request, objects, what: str) -> None:
        clients = [c for obj in objects if obj is not None for c in self.clients_shown(obj) if c is not None]
        record_reads(actor=request.user, clients=clients, what=what, surface=AccessRecord.Surface.ADMIN)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None and self.list_shows_clients:
            self._log(request, changelist.result_list, AccessRecord.What.ADMIN_LIST)
        return response

    def _log_record(self, request, response, key: str):
        obj = (getattr(response, "context_data", None) or {}).get(key)
        if obj is not None:
            self._log(request, [obj], AccessRecord.What.ADMIN_PAGE)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._log_record(request, response, "original")

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        return self._log_record(request, response, "object")

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        return self._log_record(request, response, "object")


def client_of_user(user) -> list:
    """The client profile of a user, if she has one (select_related("client") saves a query)."""
    try:
        return [user.client] if user is not None else []
    except Client.DoesNotExist:
        return []


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionsInWords, BaseGroupAdmin):
    pass


@admin.register(User)
class UserAdmin(LogsClientReads, PermissionsInWords, BaseUserAdmin):
    ordering = ["email"]
    list_select_related = ["client"]
    list_display = ["email", "first_name", "last_name", "email_verified", "is_staff", "is_active"]
    list_filter = ["email_verified", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "email_verified"]}),
        (_("Person"), {"fields": ["first_name", "last_name", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    actions = ["second_factor_off"]

    @admin.action(description=_("Turn two-step verification off (lost phone)"))
    def second_factor_off(self, request, queryset):
        """For someone who lost her phone and her recovery codes, once staff know it is her:
        her devices go, written to the audit trail with the staff member as actor (R42)."""
        for user in queryset:
            two_factor.second_factor_off(user=user, actor=request.user)
        count = queryset.count()
        messages.success(request, ngettext("Two-step verification is off for %(count)d account.",
                                           "Two-step verification is off for %(count)d accounts.", count)
                         % {"count": count})

    def clients_shown(self, obj):
        return client_of_user(obj)


# django-otp's and django-otp-webauthn's own admin pages (English only, and a removal there
# would bypass the audit trail): staff turn a person's second factor off from her user instead.
for _model in (TOTPDevice, StaticDevice, WebAuthnCredential):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(Therapist)
class TherapistAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "client_booster", "timezone", "created_at"]
    list_filter = ["client_booster"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    readonly_fields = ["client_booster"]
    actions = ["booster_on", "booster_off"]

    def save_model(self, request, obj, form, change):
        """Her booking window or kinds may have changed here: her listing row follows (R9)."""
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            listing_refresh([obj.pk])

    @admin.action(description=_("Switch Client Booster on"))
    def booster_on(self, request, queryset):
        for therapist in queryset:
            client_booster_set(therapist=therapist, on=True, actor=request.user)
        count = queryset.count()
        messages.success(request, ngettext("Client Booster is on for %(count)d therapist.",
                                           "Client Booster is on for %(count)d therapists.", count) % {"count": count})

    @admin.action(description=_("Switch Client Booster off"))
    def booster_off(self, request, queryset):
        for therapist in queryset:
            client_booster_set(therapist=therapist, on=False, actor=request.user)
        count = queryset.count()
        messages.success(request, ngettext("Client Booster is off for %(count)d therapist.",
                                           "Client Booster is off for %(count)d therapists.", count) % {"count": count})


@admin.register(Client)
class ClientAdmin(LogsClientReads, admin.ModelAdmin):
    list_display = ["__str__", "email", "user", "personnummer_verified", "created_at"]
    list_filter = ["personnummer_verified"]
    search_fields = ["first_name", "last_name", "email"]
    exclude = ["search_name"]
    list_select_related = ["user"]

    def clients_shown(self, obj):
        return [obj]


@admin.register(ClientLink)
class ClientLinkAdmin(LogsClientReads, admin.ModelAdmin):
    list_display = ["therapist", "client", "source", "created_at"]
    list_filter = ["source"]
    raw_id_fields = ["therapist", "client"]
    list_select_related = ["therapist__user", "client"]

    def clients_shown(self, obj):
        return [obj.client]


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ["therapist", "start_at", "end_at", "price", "video", "onsite", "audience"]
    list_filter = ["audience"]
    raw_id_fields = ["therapist"]
    date_hierarchy = "start_at"


@admin.register(Booking)
class BookingAdmin(LogsClientReads, admin.ModelAdmin):
    list_display = ["client", "therapist", "start_at", "mode", "status"]
    list_filter = ["status", "mode"]
    raw_id_fields = ["slot", "therapist", "client", "created_by", "cancelled_by"]
    exclude = ["video_token", "video_room"]
    # R34: an outcome is the therapist's record, changed only through its audited service.
    # R32: so is the series (and a select of every series would name every client in one).
    readonly_fields = ["outcome", "outcome_at", "outcome_by", "series"]
    list_select_related = ["client", "therapist__user"]

    def clients_shown(self, obj):
        return [obj.client]


@admin.register(TimeOff)
class TimeOffAdmin(ReadOnly, admin.ModelAdmin):
    """R36: read here; set and removed only by the therapist, through the audited services
    (setting it removes her open slots in it)."""

    list_display = ["therapist", "start_at", "end_at", "note", "created_at"]
    list_select_related = ["therapist__user"]
    raw_id_fields = ["therapist", "created_by"]
    date_hierarchy = "start_at"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnly, LogsClientReads, admin.ModelAdmin):
    list_display = ["at", "actor", "action", "target_type", "target_id", "slot_id"]
    list_select_related = ["actor__client"]

    def clients_shown(self, obj):
        """The list shows the actor (her address); an entry's page also its snapshots, which
        name a booking's client, and the client it is about."""
        shown = client_of_user(obj.actor)
        for snapshot in (obj.before or {}, obj.after or {}):
            if isinstance(snapshot, dict) and isinstance(snapshot.get("client_id"), int):
                shown.append(snapshot["client_id"])
        if obj.target_type == "client":
            shown.append(obj.target_id)
        return shown

    list_filter = ["action", "target_type"]
    search_fields = ["action"]
    date_hierarchy = "at"


@admin.register(OutboundEmail)
class OutboundEmailAdmin(LogsClientReads, admin.ModelAdmin):
    # A failed mail (the server refused it for good, or it could not be built) stays here with
    # its reason for staff to see: filter by status "failed".
    list_display = ["created_at", "kind", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    list_shows_clients = False  # the list shows no addressee, subject or text

    def clients_shown(self, obj):
        """A mail's page shows its addressee and text: the booking's client, or the clients
        whose address it was sent to."""
        shown = [obj.booking.client_id] if obj.booking_id else []
        return shown + list(Client.objects.filter(email__iexact=obj.to).values_list("pk", flat=True))


@admin.register(ApiToken)
class ApiTokenAdmin(LogsClientReads, admin.ModelAdmin):
    """Staff see whose tokens exist and when each was last used, and revoke one by deleting
    it (a lost phone, a leaked script). Only the hash is stored, so nothing here logs in."""

    list_display = ["user", "label", "created_at", "last_used_at"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "label", "key_hash", "created_at", "last_used_at"]
    list_select_related = ["user__client"]

    def clients_shown(self, obj):
        return client_of_user(obj.user)  # her address is the token's owner

    def has_add_permission(self, request):
        return False  # tokens come from logging in: POST /api/v1/auth/token

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnly, admin.ModelAdmin):
    """R39: the whole access log, for staff: read only (no add, change or delete here; the
    database refuses the last two on PostgreSQL anyway). Search by a client's or a reader's
    id: the log keeps ids only."""

    list_display = ["at", "role", "actor_id", "client_id", "what", "surface"]
    list_filter = ["role", "what", "surface", ("at", admin.DateFieldListFilter)]
    search_fields = ["=client_id", "=actor_id"]
    search_help_text = _("A client id or a reader's user id.")
    date_hierarchy = "at"
    show_full_result_count = False  # counting a large log on every page costs more than it tells
