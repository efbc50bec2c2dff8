"""The WSGI entry point: `gunicorn wsgi:app` (deploy/gunicorn.conf.py serves it)."""

from wms import create_app

app = create_app()
