"""The rucio loader: production fetches FTS errors from the monitoring (InfluxDB/Elasticsearch)
and updates the database; here it reads the same records as JSON lines from OPINT_FEED_DIR
(one file per fetch, each loaded once), aggregates repeated errors, and files each under the first category
whose pattern matches."""
import datetime
import json
import os
import re

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F

from api.models import FetchedFeed, Issue, IssueCategory


class Command(BaseCommand):
    help = "Load the FTS error feed into issues and categorize them"

    def handle(self, *args, **options):
        categories = [(c, re.compile(c.regex)) for c in IssueCategory.objects.order_by("id")]
        loaded = 0
        fetched = set(FetchedFeed.objects.values_list("name", flat=True))
        for name in sorted(os.listdir(settings.OPINT_FEED_DIR)):
            if not name.endswith(".jsonl") or name in fetched:
                continue
            with transaction.atomic(), open(os.path.join(settings.OPINT_FEED_DIR, name), encoding="utf-8") as feed:
                errors = sum(self.load(json.loads(line), categories) for line in feed if line.strip())
                FetchedFeed.objects.create(name=name, errors=errors)
            loaded += errors
        self.stdout.write(f"loaded {loaded} errors, {Issue.objects.count()} issues")

    def load(self, record, categories):
        seen = datetime.datetime.fromisoformat(record["timestamp"])
        issue, created = Issue.objects.get_or_create(
            message=record["message"],
            src_site=record["src_site"],
            dst_site=record["dst_site"],
            type=record.get("type", "transfer"),
            defaults={"amount": record.get("count", 1), "last_modified": seen},
        )
        if not created:
            Issue.objects.filter(id=issue.id).update(amount=F("amount") + record.get("count", 1), last_modified=seen)
        for category, pattern in categories:
            if pattern.search(record["message"]):
                if issue.category_id != category.id:
                    Issue.objects.filter(id=issue.id).update(category=category)
                    IssueCategory.objects.filter(id=category.id).update(amount=F("amount") + 1)
                break
        return 1
