"""Django's own tables live in the default database; the ETL tables in each workspace's
(in the default one too when it is a workspace, as without DJANGO_WORKSPACES)."""
from django.conf import settings


class WorkspaceRouter:
    def allow_migrate(self, db, app_label, **hints):
        if db == "default":
            return app_label != "tables" or "default" in settings.WORKSPACES
        return app_label == "tables"
