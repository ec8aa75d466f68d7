"""Email over SMTP: one connection per batch, text + HTML, a Message-ID derived from the dedupe key."""

import hashlib
import smtplib
import ssl
from datetime import datetime
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr

from tracker.outbox.mail import MailConfig
from tracker.reminders.messages import clean

# smtplib sends bytes as they are: lines must already end in CRLF (a bare LF makes one endless line).
WIRE = compat32.clone(linesep="\r\n")


def message_id(dedupe_key: str, mail_from: str) -> str:
    """The same reminder always gets the same Message-ID, so a resend after a crash is recognisable."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    domain = mail_from.rpartition("@")[2] or "localhost"
    return f"<reminder.{digest}@{domain}>"


def build_message(
    *, mail_from: str, to_addr: str, to_name: str, subject: str, text: str, html: str, key: str, now: datetime
) -> MIMEMultipart:
    """multipart/alternative, UTF-8 bodies, RFC 2047 headers (the compat32 classes: several times faster)."""
    msg = MIMEMultipart("alternative")
    # Header values are single lines: a title carrying CR/LF cannot add a header (Bcc: …).
    msg["Subject"] = Header(clean(subject), "utf-8")
    msg["From"] = mail_from
    msg["To"] = formataddr((str(Header(clean(to_name), "utf-8")), clean(to_addr)))
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(key, mail_from)
    msg["Auto-Submitted"] = "auto-generated"
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(MIMEText(html, "html", "utf-8"))
    return msg


class Mailer:
    """Opens the connection on first use and keeps it for the whole batch."""

    def __init__(self, config: MailConfig):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.tls == "ssl":
            conn = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.tls == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if c.user:
            conn.login(c.user, c.password or "")
        return conn

    def send(self, msg: MIMEMultipart, to_addr: str) -> None:
        data = msg.as_bytes(policy=WIRE)
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.sendmail(self.config.mail_from, [to_addr], data)
        except smtplib.SMTPServerDisconnected:
            # The server dropped an idle connection: one fresh try, then it is a failure.
            self.connection = self._connect()
            self.connection.sendmail(self.config.mail_from, [to_addr], data)

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def describe(error: Exception) -> str:
    """A short, secret-free description for the outbox's last_error."""
    if isinstance(error, smtplib.SMTPResponseException):
        detail = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"SMTP {error.smtp_code}: {detail}"[:500]
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "SMTP: recipient refused"
    return f"{type(error).__name__}: {error}"[:500]
