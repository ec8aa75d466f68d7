"""Work-group chat robots: generic JSON, WeCom, DingTalk and Feishu message formats.

Only http(s) URLs to hosts on the admins' allowlist are accepted, on the platform's
port (443; 80 too for generic receivers over http), and only when the host resolves to
public addresses — unless the operator names the host in ``TRACKER_WEBHOOK_INTERNAL_HOSTS``
(an on-premises receiver, or the tests' loopback one), which lifts the address and port
checks for that host. All of it is checked when the URL is saved and again before every
send; redirects are never followed, and timeouts are short. Robot URLs carry their
secret (``key=…``, ``access_token=…``, the Feishu hook id), so only ``mask_url`` forms
ever reach logs, the outbox and the pages. Robots with signing turned on get each
message signed with the group's secret, as each platform asks.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests

from tracker.reminders.messages import Message

FORMATS = ("generic", "wecom", "dingtalk", "feishu")
SIGNED_FORMATS = ("generic", "dingtalk", "feishu")  # WeCom robots have no signing
TIMEOUT = (3.05, 5)  # connect, read (seconds)
LINES_PER_MESSAGE = 20
# DingTalk allows 20 messages a minute per robot; the sweep runs every minute.
MESSAGES_PER_ROBOT_PER_RUN = 5


class WebhookError(Exception):
    pass


DEFAULT_PORTS = {"https": 443, "http": 80}


def _port(parts) -> int:
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("the port is not a number from 1 to 65535")
    return port or DEFAULT_PORTS[parts.scheme]


def check_url(url: str, allowed_hosts, fmt: str = "generic", internal_hosts=(), resolve=None) -> str:
    """The URL, stripped, if it may be used; raises ValueError saying why not.

    ``resolve(host, port)`` gives the host's addresses (``socket.getaddrinfo`` by
    default); a host that does not resolve passes here and fails when sent to.
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("only http and https addresses are allowed")
    if parts.username or parts.password:
        raise ValueError("addresses with a user name or password are not allowed")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise ValueError("the address has no host")
    port = _port(parts)
    if host not in {h.strip().lower() for h in allowed_hosts if h.strip()}:
        raise ValueError(f"host {host} is not on the webhook allowlist")
    if host in {h.strip().lower().rstrip(".") for h in internal_hosts if h.strip()}:
        return url
    if fmt == "generic":
        if (parts.scheme, port) not in (("https", 443), ("http", 80)):
            raise ValueError("generic receivers are reached on port 443 (https) or 80 (http) only")
    elif (parts.scheme, port) != ("https", 443):
        raise ValueError("chat robots are reached over https on port 443 only")
    for address in (resolve or _addresses)(host, port):
        if not _public(address):
            raise ValueError(f"host {host} resolves to a private or local address")
    return url


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]
    except (OSError, UnicodeError):
        return []


def _public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _mask(value: str) -> str:
    return "•••" + value[-4:] if len(value) > 8 else "•••"


def mask_url(url: str | None) -> str:
    """Scheme, host and path shape without secrets: every query value and any long path token."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # stored before URLs were checked (an unclosed IPv6 bracket): show nothing of it
        return "•••"
    segments = [(_mask(s) if len(s) >= 16 else s) for s in parts.path.split("/")]
    query = "&".join(f"{quote(k)}={_mask(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    netloc = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # stored before ports were checked: show it, never fail on it
        port = parts.netloc.rpartition(":")[2][:8]
    if port:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, ""))


def scrub(text: str, url: str) -> str:
    """Remove the URL's secrets from an error message (requests puts the full URL in them)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return text.replace(url, "•••")
    secrets = [v for _, v in parse_qsl(parts.query) if v] + [s for s in parts.path.split("/") if len(s) >= 16]
    for secret in secrets:
        text = text.replace(secret, _mask(secret))
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
