"""The per-workspace tables DIALS's ETL fills from DQMIO files on EOS."""
from django.db import models


class FileIndex(models.Model):
    STATUSES = [("PENDING", "pending"), ("RUNNING", "running"), ("FINISHED", "finished"), ("FAILED", "failed")]
    path = models.CharField(max_length=512, unique=True)
    st_size = models.BigIntegerField()
    st_ctime = models.DateTimeField()
    status = models.CharField(max_length=16, choices=STATUSES, default="PENDING")
    last_error = models.TextField(blank=True, default="")


class Dataset(models.Model):
    dataset = models.CharField(max_length=255, unique=True)


class Run(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="runs")
    run_number = models.IntegerField()
    ls_count = models.IntegerField(default=0)
    file = models.ForeignKey(FileIndex, on_delete=models.SET_NULL, null=True, related_name="runs")

    class Meta:
        unique_together = [("dataset", "run_number")]


class Lumisection(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="lumisections")
    ls_number = models.IntegerField()
    entries = models.IntegerField(default=0)

    class Meta:
        unique_together = [("run", "ls_number")]


class RunComment(models.Model):
    """Shifters' notes on a run: free text that can name people (scrubbed in samples)."""
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="comments")
    author = models.CharField(max_length=150)
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
