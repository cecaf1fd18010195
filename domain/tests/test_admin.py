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
