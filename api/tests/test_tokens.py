"""Finding 6 (R28): she sees and ends her own API tokens, and a password change or reset ends
every token and every other session of the account."""

import pytest
from django.test import Client as HttpClient

from conftest import Api, api_for, mailed_link, process_account_requests
from domain.models import ApiToken, User

pytestmark = pytest.mark.usefixtures("now")

PASSWORD = "correct horse battery"


def logged_in_browser(user, password=PASSWORD) -> HttpClient:
    http = HttpClient()
    assert http.post("/logga-in/", {"email": user.email, "password": password}).status_code == 302
    return http


def test_she_lists_her_own_tokens_with_their_names(anna, bo):
    phone = Api().post("/auth/token", {"email": anna.user.email, "password": PASSWORD, "label": "Min telefon"}).json()
    Api().post("/auth/token", {"email": bo.user.email, "password": PASSWORD})
    script = Api()
    script.http.defaults["HTTP_USER_AGENT"] = "curl/8.5.0"
    script.post("/auth/token", {"email": anna.user.email, "password": PASSWORD})

    response = Api(phone["token"]).get("/auth/tokens")

    assert response.status_code == 200
    body = response.json()
    assert [t["label"] for t in body] == ["curl/8.5.0", "Min telefon"]  # the newest first; Bo's not at all
    assert set(body[0]) == {"id", "created", "last_used", "label"}
    assert all(t["id"] in set(ApiToken.objects.filter(user=anna.user).values_list("pk", flat=True)) for t in body)


def test_she_ends_one_token_and_the_others_go_on(anna):
    keep, lost = api_for(anna.user), api_for(anna.user)
    lost_id = ApiToken.objects.latest("pk").pk

    assert keep.delete(f"/auth/tokens/{lost_id}").status_code == 204

    assert lost.get("/me").status_code == 401
    assert keep.get("/me").status_code == 200
    assert keep.delete(f"/auth/tokens/{lost_id}").status_code == 404


def test_another_persons_token_is_not_hers_to_end(anna, bo):
    bos = api_for(bo.user)
    bos_id = ApiToken.objects.get(user=bo.user).pk

    assert api_for(anna.user).delete(f"/auth/tokens/{bos_id}").status_code == 404
    assert bos.get("/me").status_code == 200


def test_the_token_list_needs_a_login(db):
    assert Api().get("/auth/tokens").status_code == 401
    assert Api("not-a-token").delete("/auth/tokens/1").status_code == 401


def test_a_password_reset_ends_every_token_and_session(erik):
    """Finding 6: a stolen token or session stops working once the owner resets."""
    stolen_token = api_for(erik.user)
    stolen_session = logged_in_browser(erik.user)
    owner = HttpClient()
    owner.post("/glomt-losenord/", {"email": erik.email})
    process_account_requests()
    form = owner.get(mailed_link("password_reset"), follow=True)

    done = owner.post(form.redirect_chain[-1][0], {"new_password1": "hallon-saft-2020", "new_password2": "hallon-saft-2020"})

    assert done.status_code == 302
    assert stolen_token.get("/me").status_code == 401
    assert not ApiToken.objects.filter(user=erik.user).exists()
    assert stolen_session.get("/mina-bokningar/").status_code == 302  # to the log-in page
    assert owner.get("/mina-bokningar/").status_code == 200  # the one who reset is in


def test_a_password_change_on_the_account_page_ends_the_others_but_not_this_session(erik):
    stolen_token = api_for(erik.user)
    other_session = logged_in_browser(erik.user)
    this = logged_in_browser(erik.user)

    changed = this.post("/konto/", {"old_password": PASSWORD, "new_password1": "hallon-saft-2020",
                                    "new_password2": "hallon-saft-2020"})

    assert changed.status_code == 302
    assert "Ditt lösenord är bytt" in this.get("/konto/").content.decode()
    assert stolen_token.get("/me").status_code == 401
    assert other_session.get("/mina-bokningar/").status_code == 302
    assert this.get("/mina-bokningar/").status_code == 200


def test_a_wrong_old_password_changes_nothing(erik):
    token = api_for(erik.user)
    this = logged_in_browser(erik.user)

    refused = this.post("/konto/", {"old_password": "guess", "new_password1": "hallon-saft-2020",
                                    "new_password2": "hallon-saft-2020"})

    assert refused.status_code == 400
    assert token.get("/me").status_code == 200


def test_the_account_page_lists_and_ends_her_tokens(anna):
    Api().post("/auth/token", {"email": anna.user.email, "password": PASSWORD, "label": "Skript på jobbet"})
    token_id = ApiToken.objects.get(user=anna.user).pk
    browser = logged_in_browser(anna.user)

    page = browser.get("/konto/").content.decode()
    assert "Skript på jobbet" in page and f"/konto/nycklar/{token_id}/ta-bort/" in page

    assert browser.post(f"/konto/nycklar/{token_id}/ta-bort/").status_code == 302
    assert not ApiToken.objects.filter(pk=token_id).exists()


def test_the_account_page_cannot_end_anothers_token(anna, bo):
    bos = api_for(bo.user)
    bos_id = ApiToken.objects.get(user=bo.user).pk

    assert logged_in_browser(anna.user).post(f"/konto/nycklar/{bos_id}/ta-bort/").status_code == 404
    assert bos.get("/me").status_code == 200


def test_guessing_the_old_password_on_the_account_page_is_throttled(erik, settings):
    """A stolen session cannot guess the current password without limit: the old password
    goes through the log-in throttle."""
    this = logged_in_browser(erik.user)
    for _ in range(settings.LOGIN_MAX_FAILURES):
        refused = this.post("/konto/", {"old_password": "guess", "new_password1": "hallon-saft-2020",
                                        "new_password2": "hallon-saft-2020"})
        assert refused.status_code == 400

    right = this.post("/konto/", {"old_password": PASSWORD, "new_password1": "hallon-saft-2020",
                                  "new_password2": "hallon-saft-2020"})

    assert right.status_code == 429 and "För många misslyckade försök" in right.content.decode()
    assert User.objects.get(pk=erik.user.pk).check_password(PASSWORD)
