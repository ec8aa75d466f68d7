"""Where a work group's chat robot may point, and how its address is shown.

Only http(s) URLs to hosts on the admins' allowlist are accepted, on the platform's
port (443; 80 too for generic receivers over http), and only when the host resolves to
public addresses, unless the operator names the host in ``TRACKER_WEBHOOK_INTERNAL_HOSTS``
(an on-premises receiver, or the tests' loopback one), which lifts the address and port
checks for that host. The address is checked when it is saved and again before every
send. Robot URLs carry their secret, so only ``mask_url`` forms reach logs and pages.
"""

import ipaddress
import socket
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

FORMATS = ("generic", "wecom", "dingtalk", "feishu")
SIGNED_FORMATS = ("generic", "dingtalk", "feishu")  # WeCom robots have no signing


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


def mask(value: str) -> str:
    return "•••" + value[-4:] if len(value) > 8 else "•••"


def mask_url(url: str | None) -> str:
    """Scheme, host and path shape without secrets: every query value and any long path token."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # stored before URLs were checked (an unclosed IPv6 bracket): show nothing of it
        return "•••"
    segments = [(mask(s) if len(s) >= 16 else s) for s in parts.path.split("/")]
    query = "&".join(f"{quote(k)}={mask(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    netloc = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # stored before ports were checked: show it, never fail on it
        port = parts.netloc.rpartition(":")[2][:8]
    if port:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, ""))
