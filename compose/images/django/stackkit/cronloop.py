"""A supercronic-style cron runner: reads a crontab, stays in the foreground, runs each due
job with `sh -c`, logs its start, output and exit status to stdout, never overlaps a job
with itself, and exits on SIGTERM/SIGINT. Debian has no supercronic package.

Lines: five cron fields (minute hour day-of-month month day-of-week; `*`, `*/n`, `a-b`,
`a,b`) or `@every 30s|5m|1h`, then the command. `#` starts a comment.

Usage: python3 -m stackkit.cronloop /etc/crontab
       python3 -m stackkit.cronloop --job '*/5 * * * * python3 manage.py fetch_issues'
(`--job` takes crontab lines as arguments, so a compose file can interpolate the schedule.)
"""
import datetime
import signal
import subprocess
import sys
import threading
import time

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


def parse_field(text, low, high):
    values = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step < 1:
                raise ValueError(f"step {step} in {text!r}")
        if part == "*":
            start, end = low, high
        elif "-" in part:
            start, end = (int(x) for x in part.split("-", 1))
        else:
            start = end = int(part)
        if start < low or end > high or start > end:
            raise ValueError(f"{text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


class Job:
    def __init__(self, line_number, line):
        self.line_number = line_number
        self.running = None
        if line.startswith("@every"):
            _, interval, self.command = line.split(None, 2)
            unit = {"s": 1, "m": 60, "h": 3600}[interval[-1]]
            self.interval = int(interval[:-1]) * unit
            self.fields = None
        else:
            parts = line.split(None, 5)
            if len(parts) < 6:
                raise ValueError("expected five schedule fields and a command")
            self.fields = [parse_field(p, lo, hi) for p, (lo, hi) in zip(parts[:5], RANGES)]
            self.command = parts[5]
            self.interval = None
        self.next_run = self.following(time.time())

    def following(self, now):
        if self.interval is not None:
            return now + self.interval
        moment = datetime.datetime.fromtimestamp(now).replace(second=0, microsecond=0)
        for _ in range(366 * 24 * 60):
            moment += datetime.timedelta(minutes=1)
            minute, hour, day, month, weekday = self.fields
            if (
                moment.minute in minute
                and moment.hour in hour
                and moment.day in day
                and moment.month in month
                and moment.isoweekday() % 7 in weekday
            ):
                return moment.timestamp()
        raise ValueError("the schedule never fires")


def log(message):
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    print(f"time={stamp} {message}", flush=True)


def run(job):
    log(f'level=info msg=starting job.command="{job.command}" job.position={job.line_number}')
    process = subprocess.Popen(["sh", "-c", job.command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        log(f"level=info channel=output job.position={job.line_number} msg={line.rstrip()!r}")
    status = process.wait()
    level = "info" if status == 0 else "error"
    log(f"level={level} msg=\"job {'succeeded' if status == 0 else 'failed'}\" exit_status={status} job.position={job.line_number}")


def parse(lines, source):
    jobs = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            jobs.append(Job(number, line))
        except (ValueError, KeyError) as error:
            sys.exit(f"{source}:{number}: {error}")
    if not jobs:
        sys.exit(f"{source}: no jobs")
    return jobs


def main(argv):
    if len(argv) >= 3 and argv[1] == "--job":
        jobs = parse(argv[2:], "--job")
        argv = [argv[0], "--job"]
    elif len(argv) == 2:
        with open(argv[1], encoding="utf-8") as crontab:
            jobs = parse(crontab, argv[1])
    else:
        sys.exit("usage: cronloop CRONTAB | cronloop --job 'SCHEDULE COMMAND'…")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log(f"level=info msg=\"read crontab\" crontab={argv[1]} jobs={len(jobs)}")
    while not stop.is_set():
        now = time.time()
        for job in jobs:
            if now >= job.next_run:
                job.next_run = job.following(now)
                if job.running and job.running.is_alive():
                    log(f"level=warning msg=\"job still running, skipped\" job.position={job.line_number}")
                    continue
                job.running = threading.Thread(target=run, args=(job,), daemon=True)
                job.running.start()
        stop.wait(max(0.2, min(job.next_run for job in jobs) - time.time()))
    log("level=info msg=\"received signal, exiting\"")


if __name__ == "__main__":
    main(sys.argv)
