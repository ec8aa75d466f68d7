"""One reminder run, as the scheduler's job and ``flask reminders run`` make it.

This module commits: the sweep's queue in one transaction, then each delivery on
its own (see ``sender``). Call it at a boundary (a scheduled job, a CLI command),
never from a service or a view. Settings, the policy and the mail configuration are
read once per run and handed down.
"""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from tracker.event.services import event_timezone
from tracker.extensions import db
from tracker.notify import digest as activity_digest
from tracker.notify import sender as workflow_sender
from tracker.outbox.rules import ACTIVITY_DIGEST
from tracker.reminders import rules, sender, sweep
from tracker.reminders.services import get_settings, policy

log = logging.getLogger(__name__)


def run_reminders(now: datetime, *, dry_run: bool = False) -> dict:
    """One sweep as if at ``now`` (queue what is due, including today's digest from its time on),
    then deliver. ``dry_run`` reports what would be queued and changes nothing.

    Never raises for a bad rule or delivery: the error is logged and the next run tries again.
    """
    settings = get_settings()
    rule_policy = policy(settings)
    tz = event_timezone()
    local_now = now.astimezone(ZoneInfo(tz))
    with_digest = rules.digest_due(local_now, rule_policy) is not None
    try:
        queued = sweep.run_sweep(
            now,
            local_now.date(),
            rule_policy,
            email=rule_policy.mail is not None,
            with_digest=with_digest,
            last_swept_on=settings.last_swept_on,
        )
        if with_digest:
            queued[ACTIVITY_DIGEST] = activity_digest.queue(now, local_now.date())
        if not dry_run and (settings.last_swept_on is None or settings.last_swept_on < local_now.date()):
            settings.last_swept_on = local_now.date()
            db.session.add(settings)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("reminder sweep failed; it runs again at the next tick")
        queued = {}
    if dry_run:
        db.session.rollback()
        return {"queued": queued, "delivered": {}}
    db.session.commit()
    try:
        delivered = dict(sender.send_due(now, tz, rule_policy) + workflow_sender.send_due(now, tz, rule_policy))
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("reminder delivery stopped; it resumes at the next tick")
        delivered = {}
    return {"queued": queued, "delivered": delivered}
