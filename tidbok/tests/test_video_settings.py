"""The video settings are strict (R29, STYLE.md "Settings are strict"): half a Jitsi token
configuration, a short secret, a token over plain http or a VIDEO_BASE_URL that is no web
address stops the start, instead of quietly sending rooms without tokens. Each case starts
`manage.py` in a fresh process with production settings, as an operator's shell would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SHOW = ("from django.conf import settings as s; "
        "print(s.VIDEO_JWT_APP_ID, s.VIDEO_JWT_AUDIENCE, s.VIDEO_JWT_SUBJECT, bool(s.VIDEO_JWT_SECRET))")
SECRET = "a-secret-shared-with-prosody-0123456789"


def manage(tmp_path: Path, *args: str, **video) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIDEO_", "DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "TIDBOK_", "OIDC_"))}
    env.update(SECRET_KEY="k" * 50, TIDBOK_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="tidbok.settings", **video)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_full_configuration_starts_with_jitsis_defaults_for_audience_and_subject(tmp_path):
    shown = manage(tmp_path, "shell", "--no-imports", "-c", SHOW, VIDEO_BASE_URL="https://Meet.Example.se/",
                   VIDEO_JWT_SECRET=SECRET, VIDEO_JWT_APP_ID="tidbok")

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["tidbok", "jitsi", "meet.example.se", "True"]


def test_the_secret_may_come_from_a_file(tmp_path):
    (tmp_path / "jitsi").write_text(SECRET + "\n")

    shown = manage(tmp_path, "shell", "--no-imports", "-c", SHOW, VIDEO_BASE_URL="https://meet.example.se/",
                   VIDEO_JWT_SECRET_FILE=str(tmp_path / "jitsi"), VIDEO_JWT_APP_ID="tidbok",
                   VIDEO_JWT_AUDIENCE="tidbok-rooms", VIDEO_JWT_SUBJECT="meet.jitsi")

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["tidbok", "tidbok-rooms", "meet.jitsi", "True"]


def test_without_any_of_it_rooms_have_no_token(tmp_path):
    shown = manage(tmp_path, "shell", "--no-imports", "-c", SHOW)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["False"]  # app id, audience and subject empty


@pytest.mark.parametrize(("video", "named"), [
    ({"VIDEO_JWT_SECRET": SECRET}, "VIDEO_JWT_APP_ID"),
    ({"VIDEO_JWT_APP_ID": "tidbok"}, "VIDEO_JWT_SECRET is empty"),
    ({"VIDEO_JWT_APP_ID": "tidbok", "VIDEO_JWT_SECRE": SECRET}, "VIDEO_JWT_SECRET is empty"),  # a typo
    ({"VIDEO_JWT_SUBJECT": "meet.example.se"}, "VIDEO_JWT_SECRET is empty"),
    ({"VIDEO_JWT_AUDIENCE": "jitsi"}, "VIDEO_JWT_SECRET is empty"),
    ({"VIDEO_JWT_SECRET_FILE": "/dev/null"}, "VIDEO_JWT_SECRET is empty"),
    ({"VIDEO_JWT_SECRET": "short", "VIDEO_JWT_APP_ID": "tidbok"}, "at least 32 characters"),
    ({"VIDEO_JWT_SECRET": SECRET, "VIDEO_JWT_APP_ID": "tidbok", "VIDEO_BASE_URL": "http://meet.example.se/"},
     "https://"),
    ({"VIDEO_BASE_URL": "meet.example.se"}, "VIDEO_BASE_URL must be an http(s):// address"),
    ({"VIDEO_BASE_URL": "javascript:alert(1)"}, "VIDEO_BASE_URL must be an http(s):// address"),
    ({"VIDEO_OPENS_MINUTES_BEFORE": "-1"}, "VIDEO_OPENS_MINUTES_BEFORE must be at least 0"),
    ({"VIDEO_OPENS_MINUTES_BEFORE": "1441"}, "VIDEO_OPENS_MINUTES_BEFORE must be at most 1440"),
], ids=["secret without app id", "app id without secret", "misspelt secret", "subject alone", "audience alone",
        "empty secret file", "short secret", "token over http", "base without scheme", "base not a web address",
        "video opens after the start", "video opens over a day before"])
def test_a_half_or_unsafe_configuration_refuses_to_start(tmp_path, video, named):
    check = manage(tmp_path, "check", **video)

    assert check.returncode != 0
    assert "ImproperlyConfigured" in check.stderr and named in check.stderr, check.stderr[-600:]
