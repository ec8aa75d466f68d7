"""The SMTP settings (``TRACKER_SMTP_*``): whether email is queued at all, and where it goes."""

from dataclasses import dataclass


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    user: str | None
    password: str | None
    tls: str  # "" (plain), "starttls" or "ssl"
    mail_from: str
    timeout: float = 10.0


def mail_config(config) -> MailConfig | None:
    """The app's TRACKER_SMTP_* settings, or None when mail is not configured."""
    host = config.get("SMTP_HOST")
    if not host:
        return None
    tls = config.get("SMTP_TLS")
    if tls is True or str(tls).lower() in ("true", "1", "yes", "on", "starttls"):
        tls = "starttls"
    elif str(tls).lower() == "ssl":
        tls = "ssl"
    else:
        tls = ""
    return MailConfig(
        host=str(host),
        port=int(config.get("SMTP_PORT") or (465 if tls == "ssl" else 25)),
        user=config.get("SMTP_USER") or None,
        password=config.get("SMTP_PASSWORD") or None,
        tls=tls,
        mail_from=config.get("MAIL_FROM") or "wallchart@localhost",
    )
