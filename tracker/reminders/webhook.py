"""Sending to work-group chat robots: generic JSON, WeCom, DingTalk and Feishu message formats.

Where a robot may point is checked by ``tracker.groups.robots`` when the URL is saved and
again before every send; redirects are never followed, and timeouts are short. Robot URLs
carry their secret (``key=…``, ``access_token=…``, the Feishu hook id), so only masked
forms ever reach logs, the outbox and the pages. Robots with signing turned on get each
message signed with the group's secret, as each platform asks.
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from tracker.groups import robots
from tracker.groups.robots import SIGNED_FORMATS
from tracker.reminders.messages import Message

TIMEOUT = (3.05, 5)  # connect, read (seconds)
LINES_PER_MESSAGE = 20
# DingTalk allows 20 messages a minute per robot; the sweep runs every minute.
MESSAGES_PER_ROBOT_PER_RUN = 5


class WebhookError(Exception):
    pass


def scrub(text: str, url: str) -> str:
    """Remove the URL's secrets from an error message (requests puts the full URL in them)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return text.replace(url, "•••")
    secrets = [v for _, v in parse_qsl(parts.query) if v] + [s for s in parts.path.split("/") if len(s) >= 16]
    for secret in secrets:
        text = text.replace(secret, robots.mask(secret))
    return text


def _safe_json(payload: dict) -> bytes:
    """JSON with <, >, & and ' escaped, so no receiver can mistake a title for markup."""
    text = json.dumps(payload, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def _md(text: str) -> str:
    """Escape for WeCom/DingTalk markdown: no HTML (<font>, <a>) and no link or emphasis syntax."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_[]()#!|~":
        text = text.replace(char, "\\" + char)
    return text


def _markdown(message: Message) -> str:
    rows = [f"### {_md(message.subject)}"]
    for line in message.lines:
        code = f"{_md(line.code)} " if line.code else ""
        rows.append(f"- {code}[{_md(line.title)}]({line.url}) {_md(line.state)}")
    return "\n".join(rows)


def payload(fmt: str, message: Message) -> dict:
    if fmt == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": _markdown(message)}}
    if fmt == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.subject[:60], "text": _markdown(message)}}
    if fmt == "feishu":
        # Feishu "post" text runs are literal text: nothing in a title is interpreted.
        content = [
            [
                {"tag": "text", "text": f"{line.code} " if line.code else ""},
                {"tag": "a", "text": line.title, "href": line.url},
                {"tag": "text", "text": f" {line.state}"},
            ]
            for line in message.lines
        ]
        return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": message.subject, "content": content}}}}
    return {
        "subject": message.subject,
        "url": message.url,
        "reminders": [
            {
                "dedupe_key": line.key,
                "title": line.title,
                "code": line.code,
                "group": line.group,
                "deadline": line.deadline.isoformat() if line.deadline else None,
                "state": line.state,
                "url": line.url,
            }
            for line in message.lines
        ],
    }


def _hmac(key: str, text: str) -> bytes:
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()


def signed(fmt: str, url: str, data: dict, secret: str | None, now: datetime) -> tuple[str, bytes, dict]:
    """The URL, body and headers to send: signed where the robot has a secret.

    DingTalk: ``timestamp`` (ms) and ``sign`` = Base64(HMAC-SHA256(secret, "timestamp\nsecret"))
    in the query. Feishu: ``timestamp`` (s) and ``sign`` = Base64(HMAC-SHA256 keyed with
    "timestamp\nsecret" over nothing) in the body. Generic: ``X-Wallchart-Timestamp`` and
    ``X-Wallchart-Signature: sha256=`` hex HMAC-SHA256(secret, "timestamp." + body).
    """
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if not secret or fmt not in SIGNED_FORMATS:
        return url, _safe_json(data), headers
    seconds = int(now.timestamp())
    if fmt == "dingtalk":
        millis = str(seconds * 1000)
        sign = base64.b64encode(_hmac(secret, f"{millis}\n{secret}")).decode()
        parts = urlsplit(url)
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("timestamp", millis), ("sign", sign)])
        return urlunsplit(parts._replace(query=query)), _safe_json(data), headers
    if fmt == "feishu":
        sign = base64.b64encode(_hmac(f"{seconds}\n{secret}", "")).decode()
        return url, _safe_json({"timestamp": str(seconds), "sign": sign, **data}), headers
    body = _safe_json(data)
    digest = hmac.new(secret.encode("utf-8"), f"{seconds}.".encode() + body, hashlib.sha256).hexdigest()
    return url, body, headers | {"X-Wallchart-Timestamp": str(seconds), "X-Wallchart-Signature": f"sha256={digest}"}


def post(session: requests.Session, url: str, body: bytes, headers: dict) -> None:
    """One POST; raises WebhookError (secret-free) unless the robot accepted the message."""
    try:
        response = session.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as error:
        raise WebhookError(scrub(f"{type(error).__name__}: {error}", url)[:500]) from None
    if not 200 <= response.status_code < 300:
        raise WebhookError(scrub(f"HTTP {response.status_code}: {response.text[:200]}", url))
    try:
        answer = response.json()
    except ValueError:
        return
    # WeCom and DingTalk answer 200 with {"errcode": …}; Feishu with {"code": …}.
    if isinstance(answer, dict):
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
        if code not in (0, None, "0"):
            message = answer.get("errmsg") or answer.get("msg") or ""
            raise WebhookError(scrub(f"robot error {code}: {message}"[:300], url))


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the environment
    return session
