"""The one scheduler: APScheduler decides when to look, the database decides what was sent.

Two jobs in an in-memory job store — the sweep-and-send every minute (more often with a
short lease) and the digest on
a cron trigger at the configured local time — both ``coalesce=True, max_instances=1,
misfire_grace_time=None`` (a late run still runs, missed runs collapse into one). No
job per reminder is ever stored. Only the holder of the database lease does the work,
so a second scheduler process (or a stray in-process one) idles; the in-process
scheduler of ``python run.py`` also takes an OS file lock before it starts.
"""

import fcntl
import logging
import os
import signal
import socket
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.clock import utcnow
from tracker.event.services import event_timezone
from tracker.extensions import db
from tracker.jobs.models import SchedulerLease, lease_ttl
from tracker.jobs.run import run_reminders
from tracker.reminders.services import get_settings

log = logging.getLogger(__name__)
LEASE_NAME = "reminders"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_lease(holder: str, now: datetime, ttl: timedelta | None = None) -> bool:
    """Take or renew the scheduler lease; False while another holder's lease is unexpired. Commits."""
    ttl = ttl or lease_ttl()
    renewed = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not renewed:
        module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        renewed = db.session.execute(
            module.insert(SchedulerLease)
            .values(name=LEASE_NAME, holder=holder, expires_at=now + ttl)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(SchedulerLease.name)
        ).first()
    db.session.commit()
    return bool(renewed)


def release_lease(holder: str) -> None:
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1, tzinfo=utcnow().tzinfo))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def lease_holder(now: datetime) -> str | None:
    lease = db.session.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME))
    return lease.holder if lease and lease.expires_at > now else None


def tick(app: Flask, holder: str) -> None:
    """Every minute (and at digest time): sweep and send, if this process holds the lease."""
    with app.app_context():
        try:
            now = utcnow()
            if not acquire_lease(holder, now):
                return
            result = run_reminders(now)
            if any(result["queued"].values()) or result["delivered"]:
                log.info("reminders: queued %s, delivered %s", result["queued"], result["delivered"])
        except Exception:  # a job that raises would only be logged by APScheduler; say what failed
            log.exception("reminder tick failed; the next tick tries again")
        finally:
            db.session.remove()


def _digest_trigger(app: Flask) -> CronTrigger:
    with app.app_context():
        hour, minute = get_settings().digest_time.split(":")
        tz = event_timezone()
        db.session.remove()
    return CronTrigger(hour=int(hour), minute=int(minute), timezone=tz)


def build(app: Flask, *, blocking: bool, holder: str):
    """A scheduler with the two jobs; not started."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    # In memory: nothing pickled, nothing to lose on a refactor; the outbox is the durable state.
    scheduler = cls(jobstores={"default": MemoryJobStore()}, job_defaults=JOB_DEFAULTS, timezone="UTC")
    # Every minute, or often enough to renew a short lease and to take over soon after it expires.
    seconds = min(60.0, app.config["SCHEDULER_LEASE_SECONDS"] / 3)
    scheduler.add_job(
        tick, "interval", seconds=seconds, args=(app, holder), id="sweep", next_run_time=utcnow(), **JOB_DEFAULTS
    )
    scheduler.add_job(tick, _digest_trigger(app), args=(app, holder), id="digest", **JOB_DEFAULTS)
    return scheduler


def run_blocking(app: Flask) -> None:
    """``flask scheduler``: the scheduler alone, in the foreground, until interrupted."""
    holder = holder_id()
    scheduler = build(app, blocking=True, holder=holder)
    # systemd and supervisord stop with SIGTERM: shut down cleanly so the lease is released at once.
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("reminder scheduler %s starting", holder)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            release_lease(holder)


_lock_file = None


def start_in_process(app: Flask):
    """``python run.py``: a background scheduler, unless another process on this machine has one."""
    global _lock_file
    path = Path(app.instance_path) / "scheduler.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        log.warning("another process holds %s; not starting a second reminder scheduler", path)
        return None
    _lock_file = handle  # held for the life of the process
    scheduler = build(app, blocking=False, holder=holder_id())
    scheduler.start()
    return scheduler
