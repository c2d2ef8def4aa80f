"""FTS transfer and deletion errors, grouped into categories by pattern, with the actions
shifters took and the solutions that worked."""
from django.conf import settings
from django.db import models


class IssueCategory(models.Model):
    regex = models.CharField(max_length=512, unique=True)
    description = models.CharField(max_length=255)
    amount = models.IntegerField(default=0)
    last_modified = models.DateTimeField(auto_now=True)


class Action(models.Model):
    action = models.CharField(max_length=255, unique=True)


class Issue(models.Model):
    TYPES = [("transfer", "transfer"), ("deletion", "deletion")]
    STATUSES = [("New", "New"), ("Resolved", "Resolved"), ("Ignored", "Ignored")]
    message = models.TextField()
    src_site = models.CharField(max_length=128)
    dst_site = models.CharField(max_length=128)
    type = models.CharField(max_length=16, choices=TYPES, default="transfer")
    amount = models.IntegerField(default=1)
    status = models.CharField(max_length=16, choices=STATUSES, default="New")
    category = models.ForeignKey(IssueCategory, on_delete=models.SET_NULL, null=True, related_name="issues")
    last_modified = models.DateTimeField()

    class Meta:
        unique_together = [("message", "src_site", "dst_site", "type")]


class Solution(models.Model):
    category = models.ForeignKey(IssueCategory, on_delete=models.CASCADE, related_name="solutions")
    action = models.ForeignKey(Action, on_delete=models.PROTECT)
    affected_site = models.CharField(max_length=128)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    score = models.IntegerField(default=0)


class FetchedFeed(models.Model):
    """A monitoring feed file already loaded (each fetch reads only what is new)."""
    name = models.CharField(max_length=255, unique=True)
    errors = models.IntegerField()
    fetched = models.DateTimeField(auto_now_add=True)
