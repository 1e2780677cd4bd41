"""Boundary's WSGI app with its URLconf, and so every view module, imported on load.

measure.py serves it with gunicorn --preload: the workers fork with all of Boundary
already imported, so a worker's first request does not import weasyprint, fontTools and
the rest, which takes tens of seconds on a busy 2-core machine (past gunicorn's 30-second
worker timeout, which then kills the worker and starts it cold again).

It also adds the reference page, FRAME_PATH, that no deployment serves.
"""

from config import FRAME_PATH
from django.urls import clear_url_caches, get_resolver, path

from boundary.wsgi import application


def serve_frame() -> None:
    """Add FRAME_PATH: Boundary's frame around an empty body (the session, the person,
    the middleware and base.html with its menu, the bell's count and the logout form),
    served by make bench's processes only; the measuring one imports this module too."""
    # Imported once Django is set up (boundary.wsgi, above).
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import render

    import boundary.urls

    @login_required
    def frame(request):
        return render(request, "base.html")

    boundary.urls.urlpatterns.append(path(FRAME_PATH.strip("/") + "/", frame))
    clear_url_caches()


serve_frame()
get_resolver().url_patterns  # noqa: B018 - evaluated for its imports

__all__ = ["application"]
