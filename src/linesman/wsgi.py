"""WSGI entry point for production servers (`linesman serve` uses it, as can gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

from linesman.core import lifeline  # no Django in it: safe before set-up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")
if os.environ.get(lifeline.ENV) == "1":  # a worker of `linesman serve`'s granian
    lifeline.die_with_parent()
django_application = get_wsgi_application()

from linesman.cwmp.wsgi import with_acs  # noqa: E402  (needs Django set up first)

application = with_acs(django_application)
