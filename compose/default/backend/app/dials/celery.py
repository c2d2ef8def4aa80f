"""The celery app of the workers and beat (DIALS runs one worker pair per workspace)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dials.settings")

app = Celery("dials")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = {
    "refresh-runs": {"task": "dials.celery.refresh_runs", "schedule": 60.0},
}


@app.task
def refresh_runs():
    """Stands in for the ETL's periodic ingestion."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM auth_user")
        return cursor.fetchone()[0]
