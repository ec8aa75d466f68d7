"""``/healthz`` for the load balancer: database reachable, scheduler heartbeat age. No private data."""

from flask import Blueprint, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from tracker.clock import utcnow
from tracker.extensions import db, limiter
from tracker.jobs.models import SchedulerLease, lease_ttl

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        age = scheduler_heartbeat_age()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok", scheduler_heartbeat_age_seconds=age)


def scheduler_heartbeat_age() -> int | None:
    """Seconds since the scheduler last renewed its lease, or None if none has run."""
    expires_at = db.session.scalar(select(SchedulerLease.expires_at).limit(1))
    if expires_at is None:
        return None
    return max(0, int((utcnow() - (expires_at - lease_ttl())).total_seconds()))
