"""The ETL's celery app: per workspace a `<ws>-indexer` queue (finding new files), a
`<ws>-bulk` queue (file ingestion) and a `<ws>-priority` queue (ingestion asked for by a
user), and common-redbeat (redbeat's scheduler) scheduling an index of every workspace."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dials.settings")

app = Celery("dials")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tables"])


@app.on_after_finalize.connect
def schedule(sender, **kwargs):
    from django.conf import settings

    for workspace in settings.WORKSPACES:
        sender.add_periodic_task(
            60.0,
            sender.signature("tables.tasks.index_files", args=(workspace,), queue=f"{workspace}-indexer"),
            name=f"index {workspace}",
        )
