"""The shift digest the cron container sends: today's certifications, by e-mail."""
import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand

from certifier.models import TrackerCertification


class Command(BaseCommand):
    help = "E-mail the day's tracker certifications to DJANGO_SERVER_EMAIL"

    def handle(self, *args, **options):
        today = datetime.date.today()
        rows = TrackerCertification.objects.filter(date=today).select_related("user").order_by("run_number")
        lines = [f"run {c.run_number}: pixel {c.pixel}, strip {c.strip}, tracking {c.tracking}" for c in rows]
        body = "\n".join(lines) or "No certifications today."
        send_mail(f"Shift digest {today.isoformat()}", body, settings.SERVER_EMAIL, [settings.SERVER_EMAIL])
        self.stdout.write(f"digest sent: {len(lines)} certifications")
