"""WSGI entry point for production servers (`linesman serve` uses it, as can gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")
application = get_wsgi_application()
