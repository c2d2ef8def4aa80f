"""Finds DQMIO exports under DIR_PATH_DQMIO_STORAGE and loads their histograms."""
import csv
import datetime
import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from histograms.models import DataFile, Lumisection, LumisectionHistogram1D


class Command(BaseCommand):
    help = "Register and parse the DQMIO files found under DIR_PATH_DQMIO_STORAGE"

    def handle(self, *args, **options):
        found = 0
        for directory in settings.DIR_PATH_DQMIO_STORAGE:
            for root, _, names in os.walk(directory):
                for name in sorted(n for n in names if n.endswith(".csv")):
                    self.load(os.path.join(root, name))
                    found += 1
        self.stdout.write(f"{found} files")

    @transaction.atomic
    def load(self, path):
        info = os.stat(path)
        created = datetime.datetime.fromtimestamp(info.st_ctime, tz=datetime.timezone.utc)
        data_file, _ = DataFile.objects.get_or_create(
            filepath=path, defaults={"st_size": info.st_size, "st_ctime": created}
        )
        count = 0
        with open(path, newline="", encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                lumisection, _ = Lumisection.objects.get_or_create(
                    run_number=int(row["fromrun"]), ls_number=int(row["fromlumi"])
                )
                LumisectionHistogram1D.objects.update_or_create(
                    lumisection=lumisection,
                    title=row["hname"],
                    defaults={
                        "entries": int(row["entries"]),
                        "data": json.loads(row["histo"]),
                        "source_data_file": data_file,
                    },
                )
                count += 1
        data_file.entries_total = data_file.entries_processed = count
        data_file.status = "processed"
        data_file.save()
