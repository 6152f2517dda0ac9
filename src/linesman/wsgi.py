"""WSGI entry point for production servers (`linesman serve` uses it, as can gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")
django_application = get_wsgi_application()

from linesman.cwmp.wsgi import with_acs  # noqa: E402  (needs Django set up first)

application = with_acs(django_application)
