"""Where the settings find SECRET_KEY (README: `make run` keeps one in data/secret_key, and a
staff command in a second shell must find it there without SECRET_KEY in its environment),
and that production still refuses to start without any key. Each case runs `manage.py` in a
fresh process, as an operator's shell would."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SHOW_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def manage(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """manage.py with production settings, data in `data_dir`, and no key in the environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "TIDBOK_"))}
    env.update(TIDBOK_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="tidbok.settings")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_second_shell_finds_the_key_make_run_keeps_in_the_data_folder(tmp_path):
    (tmp_path / "secret_key").write_text("kept-by-make-run-" + "k" * 40 + "\n")

    check = manage(tmp_path, "check")
    shown = manage(tmp_path, "shell", "--no-imports", "-c", SHOW_KEY)

    assert check.returncode == 0, check.stderr
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "kept-by-make-run-" + "k" * 40


def test_without_any_key_production_still_refuses_to_start(tmp_path):
    check = manage(tmp_path, "check")

    assert check.returncode != 0
    assert "ImproperlyConfigured" in check.stderr and "SECRET_KEY" in check.stderr
    assert not (tmp_path / "secret_key").exists()


def test_an_empty_key_file_is_no_key(tmp_path):
    (tmp_path / "secret_key").write_text("\n")

    check = manage(tmp_path, "check")

    assert check.returncode != 0
    assert "ImproperlyConfigured" in check.stderr


def test_the_readmes_staff_command_works_in_a_plain_shell(tmp_path):
    """README, "Staff": the command as printed there, run by /bin/sh with nothing in its
    environment but PATH and the data folder (as a second terminal would have after
    `make run`), switches Client Booster and says so in Swedish."""
    (tmp_path / "secret_key").write_text("kept-by-make-run-" + "k" * 40 + "\n")
    assert manage(tmp_path, "migrate", "-v", "0").returncode == 0
    made = manage(tmp_path, "shell", "--no-imports", "-c",
                  "from domain.models import Therapist, User; Therapist.objects.create(user=User.objects.create_user("
                  "email='terapeut@tidbok.se', password='x', first_name='Sara', last_name='Lindqvist'))")
    assert made.returncode == 0, made.stderr
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith(".venv/bin/python manage.py client_booster"))

    run = subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "TIDBOK_DATA_DIR": str(tmp_path)})
    shown = manage(tmp_path, "shell", "--no-imports", "-c",
                   "from domain.models import Therapist; print(Therapist.objects.get().client_booster)")

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "Client Booster är påslaget för Sara Lindqvist <terapeut@tidbok.se>."
    assert shown.stdout.strip() == "True"
