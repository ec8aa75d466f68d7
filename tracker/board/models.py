from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class ReferenceVersion(db.Model):
    """One row: a counter bumped in the same transaction as any change to the board's reference data.

    The board's reference data are the event, work groups, milestones and working days;
    items carry their own version in the ledger head.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
