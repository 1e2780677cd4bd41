"""Boundary's WSGI app with its URLconf, and so every view module, imported on load.

measure.py serves it with gunicorn --preload: the workers fork with all of Boundary
already imported, so a worker's first request does not import weasyprint, fontTools and
the rest, which takes tens of seconds on a busy 2-core machine (past gunicorn's 30-second
worker timeout, which then kills the worker and starts it cold again).
"""

from django.urls import get_resolver

from boundary.wsgi import application

get_resolver().url_patterns  # noqa: B018 - evaluated for its imports

__all__ = ["application"]
