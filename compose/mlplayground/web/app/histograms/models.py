"""DQMIO files found on EOS and the per-lumisection 1D histograms loaded from them."""
from django.db import models


class DataFile(models.Model):
    filepath = models.CharField(max_length=1024, unique=True)
    st_size = models.BigIntegerField()
    st_ctime = models.DateTimeField()
    entries_total = models.IntegerField(default=0)
    entries_processed = models.IntegerField(default=0)
    status = models.CharField(max_length=16, default="pending")


class Lumisection(models.Model):
    run_number = models.IntegerField(db_index=True)
    ls_number = models.IntegerField()

    class Meta:
        unique_together = [("run_number", "ls_number")]


class LumisectionHistogram1D(models.Model):
    lumisection = models.ForeignKey(Lumisection, on_delete=models.CASCADE, related_name="histograms")
    title = models.CharField(max_length=220)
    entries = models.BigIntegerField()
    data = models.JSONField()
    source_data_file = models.ForeignKey(DataFile, on_delete=models.SET_NULL, null=True)

    class Meta:
        unique_together = [("lumisection", "title")]
