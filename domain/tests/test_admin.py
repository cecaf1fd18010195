"""Staff revoke an API token in the admin: the list shows whose tokens exist and when each
was last used, and deleting one logs it out at once."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from conftest import Api
from domain.models import ApiToken, User
from domain.services import token_create

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def staff(db):
    user = User.objects.create_user(email="staff@example.se", password="a long staff passphrase")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    http = HttpClient()
    http.force_login(User.objects.get(pk=user.pk))
    return http


def test_staff_see_the_tokens_and_revoke_one(staff, anna):
    key = token_create(user=anna.user)
    assert Api(key).get("/me").status_code == 200
    token = ApiToken.objects.get(user=anna.user)

    listing = staff.get(reverse("admin:domain_apitoken_changelist"))
    assert listing.status_code == 200
    assert anna.user.email in listing.content.decode()
    assert key not in listing.content.decode()

    confirm = staff.post(reverse("admin:domain_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert confirm.status_code == 302
    assert not ApiToken.objects.exists()
    assert Api(key).get("/me").status_code == 401


def test_staff_cannot_make_a_token_in_the_admin(staff):
    assert staff.get(reverse("admin:domain_apitoken_add")).status_code == 403


# The admin in Swedish (issue 10, finding 5) -------------------------------------------------

# Words that Swedish writes as English does.
SAME_IN_SWEDISH = {"personnummer", "status", "video", "Client Booster", "presentation", "start", "Person"}


def test_every_model_and_field_of_ours_has_a_swedish_label():
    from django.apps import apps
    from django.utils import translation

    untranslated = []
    for model in apps.get_app_config("domain").get_models():
        labels = [("model", model._meta.verbose_name), ("models", model._meta.verbose_name_plural)]
        labels += [(f.name, f.verbose_name) for f in model._meta.get_fields()
                   if not f.auto_created and f.concrete and f.name != "id"]
        for name, label in labels:
            with translation.override("en"):
                english = str(label)
            with translation.override("sv"):
                swedish = str(label)
            if english == swedish and english not in SAME_IN_SWEDISH:
                untranslated.append(f"{model.__name__}.{name}: {english}")
    assert not untranslated


def test_staff_switch_client_booster_in_swedish(staff, bo):
    page = staff.get(reverse("admin:domain_therapist_changelist")).content.decode()
    response = staff.post(reverse("admin:domain_therapist_changelist"),
                          {"action": "booster_on", "_selected_action": [bo.pk]}, follow=True)

    assert "Slå på Client Booster" in page and "Terapeuter" in page
    assert "Client Booster är påslaget för 1 terapeut." in response.content.decode()
    bo.refresh_from_db()
    assert bo.client_booster is True


def test_the_admin_index_speaks_swedish_and_english_on_request(staff):
    swedish = staff.get(reverse("admin:index")).content.decode()
    staff.cookies["tidbok_language"] = "en"
    english = staff.get(reverse("admin:index")).content.decode()

    assert "Tidbok – administration" in swedish and "Bokningar" in swedish and "API-nycklar" in swedish
    assert "Tidbok administration" in english and "Bookings" in english and "API keys" in english


def test_a_groups_permissions_are_named_in_swedish(staff):
    page = staff.get(reverse("admin:auth_group_add")).content.decode()

    assert "Tidbok | Bokning | Får ändra bokning" in page
    assert "Can change booking" not in page
