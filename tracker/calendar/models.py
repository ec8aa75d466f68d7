from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import UTCDateTime
from tracker.extensions import db


class CalendarToken(db.Model):
    """A user's calendar secret: the random salt of their feed URL.

    The URL's token is an HMAC of the user id and this salt under the app's
    secret key, so the table alone does not reveal any feed URL. Replacing the
    salt (reset) makes the old URL fail at once. No row yet means the salt is
    empty: the URL exists from the start without writing on a GET.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    reset_at: Mapped[datetime] = mapped_column(UTCDateTime)
