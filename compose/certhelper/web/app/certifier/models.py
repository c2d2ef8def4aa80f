"""Tracker certifications by shifters against reference runs."""
from django.conf import settings
from django.db import models


class ReferenceRun(models.Model):
    reference_run = models.IntegerField(unique=True)
    reco = models.CharField(max_length=16, choices=[("Express", "Express"), ("Prompt", "Prompt"), ("reReco", "reReco")])
    runtype = models.CharField(max_length=16, choices=[("Cosmics", "Cosmics"), ("Collisions", "Collisions")])


class TrackerCertification(models.Model):
    run_number = models.IntegerField()
    reference_run = models.ForeignKey(ReferenceRun, on_delete=models.PROTECT, related_name="certifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certifications")
    pixel = models.CharField(max_length=8, default="good")
    strip = models.CharField(max_length=8, default="good")
    tracking = models.CharField(max_length=8, default="good")
    comment = models.TextField(blank=True, default="")
    date = models.DateField(auto_now_add=True)

    class Meta:
        unique_together = [("run_number", "reference_run")]
