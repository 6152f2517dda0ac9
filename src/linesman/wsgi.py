"""WSGI entry point for production servers (`linesman serve` uses it, as can gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")
if os.environ.get("LINESMAN_DIE_WITH_PARENT") == "1":  # a worker of `linesman serve`'s granian
    from linesman.core.lifeline import die_with_parent

    die_with_parent()
django_application = get_wsgi_application()

from linesman.cwmp.wsgi import with_acs  # noqa: E402  (needs Django set up first)

application = with_acs(django_application)
