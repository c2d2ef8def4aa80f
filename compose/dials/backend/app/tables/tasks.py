"""The ETL tasks: index a workspace's files (indexer queue), ingest one file (bulk queue)."""
import datetime
import os

from celery import shared_task
from django.db import transaction

from tables.models import Dataset, FileIndex, Lumisection, Run

EOS_ROOT = os.environ.get("DIALS_EOS_ROOT", "/eos/dqmio")


@shared_task(name="tables.tasks.index_files")
def index_files(workspace):
    """Records new files under the workspace's directory and queues their ingestion."""
    directory = os.path.join(EOS_ROOT, workspace)
    queued = 0
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        path = os.path.join(directory, name)
        info = os.stat(path)
        created = datetime.datetime.fromtimestamp(info.st_ctime, tz=datetime.timezone.utc)
        row, new = FileIndex.objects.using(workspace).get_or_create(
            path=path, defaults={"st_size": info.st_size, "st_ctime": created}
        )
        if new:
            ingest_file.apply_async(args=(workspace, row.id), queue=f"{workspace}-bulk")
            queued += 1
    return queued


@shared_task(name="tables.tasks.ingest_file")
def ingest_file(workspace, file_id):
    """Reads `dataset run lumisections` lines from a file into Run and Lumisection rows."""
    with transaction.atomic(using=workspace):
        row = FileIndex.objects.using(workspace).select_for_update().get(id=file_id)
        with open(row.path, encoding="utf-8") as lines:
            for line in lines:
                dataset_name, run_number, ls_count = line.split()
                dataset, _ = Dataset.objects.using(workspace).get_or_create(dataset=dataset_name)
                run, _ = Run.objects.using(workspace).update_or_create(
                    dataset=dataset, run_number=int(run_number), defaults={"ls_count": int(ls_count), "file": row}
                )
                for number in range(1, int(ls_count) + 1):
                    Lumisection.objects.using(workspace).get_or_create(run=run, ls_number=number)
        row.status = "FINISHED"
        row.save(using=workspace)
    return file_id


@shared_task(name="tables.tasks.count_runs")
def count_runs(workspace):
    return Run.objects.using(workspace).count()
