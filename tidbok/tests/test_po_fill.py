"""scripts/po-fill: fills a catalog's untranslated and fuzzy entries from a JSON object or
from other catalogs, leaves translated ones alone, and compiles what it wrote."""

import json
import subprocess
import sys
from pathlib import Path

import polib
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "po-fill"

HEADER = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=CHARSET\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

'''


def catalog(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def target(tmp_path):
    return catalog(tmp_path / "django.po", '''#, python-format
msgid "Hello %(name)s,"
msgstr ""

msgid "Kind regards"
msgstr "Med vänlig hälsning"

#, fuzzy
#| msgid "Video"
msgid "Video call"
msgstr "Video"

msgid "Line one\\n"
"line two"
msgstr ""

msgid "one day"
msgid_plural "%(n)s days"
msgstr[0] ""
msgstr[1] ""

msgctxt "month"
msgid "May"
msgstr ""

msgid "Nobody knows"
msgstr ""
''')


def entries(path: Path) -> dict:
    return {(e.msgctxt, e.msgid): e for e in polib.pofile(str(path))}


def test_from_json_fills_the_empty_and_the_fuzzy_and_compiles(target, tmp_path):
    mapping = tmp_path / "sv.json"
    mapping.write_text(json.dumps({
        "Hello %(name)s,": "Hej %(name)s!", "Kind regards": "Vänliga hälsningar", "Video call": "Videosamtal",
        "Line one\nline two": "Rad ett\nrad två", "one day": ["en dag", "%(n)s dagar"], "May": "maj",
    }), encoding="utf-8")

    done = run(target, mapping)

    assert done.returncode == 0, done.stderr
    po = entries(target)
    assert po[None, "Hello %(name)s,"].msgstr == "Hej %(name)s!"
    assert po[None, "Kind regards"].msgstr == "Med vänlig hälsning"  # translated already: kept
    assert po[None, "Video call"].msgstr == "Videosamtal"
    assert "fuzzy" not in po[None, "Video call"].flags and po[None, "Video call"].previous_msgid is None
    assert po[None, "Line one\nline two"].msgstr == "Rad ett\nrad två"
    assert po[None, "one day"].msgstr_plural == {0: "en dag", 1: "%(n)s dagar"}
    assert po["month", "May"].msgstr == ""  # a key names an entry without a context only
    assert "2 still untranslated or fuzzy" in done.stdout and "Nobody knows" in done.stdout
    assert "charset=UTF-8" in target.read_text(encoding="utf-8")
    compiled = polib.mofile(str(target.with_suffix(".mo")))
    assert {e.msgid: e.msgstr for e in compiled}["Video call"] == "Videosamtal"


def test_from_other_catalogs_the_first_translation_wins(target, tmp_path):
    first = catalog(tmp_path / "first.po", '''msgid "Video call"
msgstr "Videosamtal"

msgctxt "month"
msgid "May"
msgstr "maj"

#, fuzzy
msgid "Nobody knows"
msgstr "Ingen vet (gissat)"
''')
    second = catalog(tmp_path / "second.po", '''msgid "Video call"
msgstr "Videomöte"

msgid "May"
msgstr "Får"

msgid "one day"
msgid_plural "%(n)s days"
msgstr[0] "en dag"
msgstr[1] "%(n)s dagar"
''')

    done = run("--from", first, second, target)

    assert done.returncode == 0, done.stderr
    po = entries(target)
    assert po[None, "Video call"].msgstr == "Videosamtal"
    assert "translated otherwise" in done.stderr
    assert po["month", "May"].msgstr == "maj"  # matched with its context
    assert po[None, "one day"].msgstr_plural == {0: "en dag", 1: "%(n)s dagar"}
    assert po[None, "Nobody knows"].msgstr == ""  # a fuzzy guess elsewhere is no translation
    assert po[None, "Hello %(name)s,"].msgstr == ""


def test_a_translation_that_drops_a_placeholder_is_refused_by_msgfmt(target, tmp_path):
    mapping = tmp_path / "sv.json"
    mapping.write_text(json.dumps({"Hello %(name)s,": "Hej!"}), encoding="utf-8")

    done = run(target, mapping)

    assert done.returncode != 0
    assert "format" in done.stderr


@pytest.mark.parametrize(("args", "says"), [
    ([], "usage: po-fill"),
    (["only.po"], "usage: po-fill"),
    (["--from", "x.po"], "usage: po-fill"),
    (["a.txt", "b.json"], "a.txt: not a .po file"),
    (["{target}", "missing.json"], "missing.json: not a readable JSON file"),
    (["{target}", "{bad_json}"], "bad.json: not a readable JSON file"),
    (["--from", "missing.po", "{target}"], "missing.po: not a readable .po file"),
])
def test_bad_usage_is_named_and_changes_nothing(target, tmp_path, args, says):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json", encoding="utf-8")
    before = target.read_bytes()

    done = run(*[a.format(target=target, bad_json=bad_json) for a in args])

    assert done.returncode != 0
    assert says in done.stderr and "Traceback" not in done.stderr
    assert target.read_bytes() == before
