"""An operator's first run with DEBUG off: pages render before collectstatic has run, and
`manage.py check` says to run it."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from helpdesk.checks import static_files_collected_check
from helpdesk.configref import Variable, readme_with_table, variables

pytestmark = pytest.mark.django_db
PRODUCTION_STATIC = {"BACKEND": "helpdesk.storage.LenientManifestStaticFilesStorage"}


@pytest.fixture
def production_static(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STATIC}
    return tmp_path


def test_pages_render_before_static_files_are_collected(production_static):
    response = Client().get("/console/login/")
    assert response.status_code == 200


def test_check_says_to_collect_static_files_until_they_are(production_static):
    (warning,) = static_files_collected_check(None)
    assert warning.id == "helpdesk.W001"
    assert "collectstatic" in warning.hint

    call_command("collectstatic", interactive=False, verbosity=0)
    assert static_files_collected_check(None) == []


def production_setting(name: str, **variables: str) -> str:
    """The value of setting `name` in a process started with DEBUG off and these variables."""
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEYS": "a2V5LWZvci10ZXN0cy1vbmx5LWtleS1mb3ItdGVzdHM=",
        "ALLOWED_HOSTS": "help.example.com",
        **variables,
    }
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("public_base_url", "secure"), [("https://help.example.com", "True"), ("http://10.0.0.5:8000", "False")]
)
def test_cookies_are_secure_when_the_deployment_is_served_over_https(public_base_url, secure):
    assert production_setting("SESSION_COOKIE_SECURE", PUBLIC_BASE_URL=public_base_url) == secure
    assert production_setting("CSRF_COOKIE_SECURE", PUBLIC_BASE_URL=public_base_url) == secure


def test_beat_keeps_its_schedule_file_under_var():
    assert production_setting("CELERY_BEAT_SCHEDULE_FILENAME").endswith("var/celerybeat-schedule")


def test_the_readme_configuration_reference_is_up_to_date():
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert readme_with_table(readme) == readme, (
        "README.md's configuration reference is stale: run `.venv/bin/python manage.py config_reference --write`"
    )


def test_the_reference_lists_a_variable_with_its_default_and_the_comment_above_it():
    source = '# How long a widget waits,\n# in seconds.\nWIDGET_WAIT = int(env("WIDGET_WAIT_SECONDS", "5"))\nX = env("X_URL", "")  # where X lives\n'
    assert variables(source) == [
        Variable(name="WIDGET_WAIT_SECONDS", default="`5`", meaning="How long a widget waits, in seconds."),
        Variable(name="X_URL", default="empty", meaning="where X lives"),
    ]
