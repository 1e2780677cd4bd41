import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boundary.settings")

app = Celery("boundary")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
