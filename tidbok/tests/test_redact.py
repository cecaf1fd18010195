"""tidbok.redact.redact, the one function every log line passes through (R24): it hides every
written form of a personnummer, and the keys in secret links, and leaves the rest of a line
(times above all) as it was."""

import pytest

from tidbok.redact import SECRET_PATH_PREFIXES, redact

NUMBER = "19900215-2388"  # as a therapist would type it (the check digit does not matter here)


@pytest.mark.parametrize("written", [
    "19900215-2388", "199002152388", "900215-2388", "9002152388", "900215+2388",
    "19900215 2388", "900215 2388", "1990 0215 2388",
    "900215%2B2388", "900215%2b2388", "900215%2D2388", "900215%202388", "19900215%2D2388",
    "1990+0215+2388", "1990%200215%202388", "19900215+2388",
])
def test_every_written_form_of_a_personnummer_is_hidden(written):
    line = f'127.0.0.1 - - [29/Nov/2026:03:01:55 +0100] "GET /api/v1/therapist/clients?q={written}&x=1 HTTP/1.1" 200 2'

    redacted = redact(line)

    assert redacted == line.replace(written, "[personnummer]")


@pytest.mark.parametrize("query", ["q=Anna%2019900215-2388", "q=%C3%A519900215-2388", "q=Anna+1990+0215+2388"])
def test_a_personnummer_after_an_encoded_character_is_hidden(query):
    assert redact(f"GET /kalender/klienter/?{query}").endswith("[personnummer]")


@pytest.mark.parametrize("text", [
    "2026-11-29 03:01:55,123 INFO django.request ok",
    "2027-01-11T09:00:00+01:00",
    "start=2027-01-11T09:00:00%2B01:00&end=2027-01-18T00:00:00%2B01:00",
    '127.0.0.1 - - [29/Nov/2026:03:01:55 +0100] "GET /api/v1/health HTTP/1.1" 200 15 "-" "curl/8.5"',
    "booking 1234 slot 5678 at 2030-01-14 09:00 for 45 minutes, 1000 kr",
])
def test_times_and_ordinary_numbers_stay_as_they_were(text):
    assert redact(text) == text


@pytest.mark.parametrize(("path", "redacted"), [
    ("/kalender/feed/Xy_3-abcDEF0123456789abcdefghijklmn.ics", "/kalender/feed/[token].ics"),
    ("/video/Zq9_-abcDEF0123456789abcdefghijklmn", "/video/[token]"),
    ("/losenord/MTIz/cdp1zk-0b4c1e7cd1c1e4a5cfe7d7a0b0b1d2c3/", "/losenord/[token]/[token]/"),
    ("/losenord/MTIz/set-password/", "/losenord/[token]/[token]/"),
    ("/bekrafta/MTIz/cdp1zk-0b4c1e7cd1c1e4a5cfe7d7a0b0b1d2c3/", "/bekrafta/[token]/[token]/"),
    ("/inbjudan/Xy_3-abcDEF0123456789abcdefghijklmn/", "/inbjudan/[token]/"),
    # A signed value keeps its timestamp and signature after colons: all of it is the key.
    ("/inbjudan/eyJjIjoyfQ:1xXW0C:ZnQQaXUORwz0t8elXofjtS367MOKMVpO--3SrXSKGYg/", "/inbjudan/[token]/"),
    ("/logga-in/?next=%2Finbjudan%2FeyJjIjoyfQ%3A1xXVrR%3AveSIGn-_%2F", "/logga-in/?next=%2Finbjudan%2F[token]%2F"),
    ("/logga-in/?next=/video/Zq9_-abcDEF0123456789", "/logga-in/?next=/video/[token]"),
    ("/logga-in/?next=%2Fvideo%2FZq9_-abcDEF0123456789", "/logga-in/?next=%2Fvideo%2F[token]"),
    ("https://tidbok.se/losenord/MTIz/cdp1zk-0b4c1e7c/ ", "https://tidbok.se/losenord/[token]/[token]/ "),
])
def test_the_keys_in_secret_links_are_hidden(path, redacted):
    line = f'127.0.0.1 - - [29/Nov/2026:03:01:55 +0100] "GET {path} HTTP/1.1" 200 2 "https://tidbok.se{path}" "-"'

    assert redact(line) == line.replace(path, redacted)


def test_a_token_with_digits_like_a_personnummer_is_hidden_whole():
    assert redact("/video/ab9002152388cd") == "/video/[token]"


def test_every_secret_prefix_is_a_path_with_slashes_on_both_sides():
    assert {"/kalender/feed/", "/video/", "/losenord/", "/bekrafta/", "/inbjudan/"} <= set(SECRET_PATH_PREFIXES)
    assert all(p.startswith("/") and p.endswith("/") for p in SECRET_PATH_PREFIXES)
