"""The ledger's hash chain detects any altered, removed or inserted row."""

from sqlalchemy import text

from tracker.extensions import db
from tracker.items.ledger import verify_chain


def _verify(runner):
    return runner.invoke(args=["ledger", "verify"])


def test_intact_ledger_verifies(runner, world):
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_altered_note_is_detected_and_named(app, runner, world):
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET after = 'forged' WHERE id = 3"))
        db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "entry 3" in result.output


def test_deleted_entry_is_detected(app, runner, world):
    with app.app_context():
        db.session.execute(text("DELETE FROM ledger_entry WHERE id = 2"))
        db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "entry 3" in result.output


def test_removed_tail_is_detected(app, world):
    with app.app_context():
        last = db.session.scalar(text("SELECT max(id) FROM ledger_entry"))
        db.session.execute(text("DELETE FROM ledger_entry WHERE id = :id"), {"id": last})
        db.session.commit()
        report = verify_chain()
    assert not report.ok and "end" in report.reason


def test_rehashed_forgery_breaks_the_next_link(app, world):
    """Recomputing a forged row's own hash still breaks its successor's link."""
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET hash = :h WHERE id = 2"), {"h": "f" * 64})
        db.session.commit()
        report = verify_chain()
    assert not report.ok and report.bad_entry_id == 2
