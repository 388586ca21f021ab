"""The one allowed-host rule: which URLs the crawler, the image fetcher, browser pages and the
evidence browser may request.

``HostRule(allowed_hosts, base_url).check(url)`` returns ``None`` when the URL may be fetched, else
a short reason (English, for logs and the evidence record). Every network path calls it:
``crawler.middlewares.AllowedHostsMiddleware`` (Scrapy requests and image fetches),
``crawler.browser.AbortOutside`` (scrapy-playwright pages), ``crawler.browser.guard_context``
(evidence screenshots: every navigation, redirect, subresource, fetch/XHR and websocket).

The rule (from issue 14 and the SSRF guidance of OWASP's "Server-Side Request Forgery Prevention
Cheat Sheet"):

1. Only ``http``/``https`` (and ``ws``/``wss`` for websockets) go to the network; ``data:``,
   ``blob:`` and ``about:`` never leave the browser and are allowed.
2. The host must be one the source names: an ``allowed_hosts`` entry ``example.com`` allows that
   host and its subdomains on any port; an entry with a port (``127.0.0.1:8001``) allows exactly
   that host and port. The source's ``base_url`` host *and port* are always allowed.
3. Whatever the name, the address it resolves to must not be loopback, private (RFC 1918, RFC 4193),
   link-local, carrier-grade NAT (RFC 6598), unspecified, multicast, reserved, or a cloud metadata
   address (169.254.169.254, 100.100.100.200, fd00:ec2::254) - unless the source names exactly that
   host (and port, when the entry has one). That exception is how the bundled sandbox and test
   servers on 127.0.0.1 are reached: their ``base_url`` names them. A subdomain match never unlocks
   a private address (DNS rebinding).

Resolution uses ``socket.getaddrinfo`` and is cached per rule; :meth:`HostRule.resolve` returns the
checked addresses so a fetcher can connect to exactly the address that was checked.
"""
from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

LOCAL_SCHEMES = ("data:", "blob:", "about:")
NETWORK_SCHEMES = {"http": 80, "https": 443, "ws": 80, "wss": 443}
METADATA_ADDRESSES = {ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254",
                                                        "169.254.170.2")}
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class HostBlocked(Exception):
    """A URL the allowed-host rule refuses; ``str(e)`` says why."""


def internal_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for loopback, private, link-local, CGNAT, unspecified, multicast, reserved and cloud
    metadata addresses (IPv4-mapped IPv6 addresses are judged as their IPv4 address)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip in METADATA_ADDRESSES or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified
            or ip.is_multicast or ip.is_reserved or (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT))


def _split_entry(entry: str) -> tuple[str, int | None]:
    e = entry.strip().lower()
    if "://" in e:
        u = urlsplit(e)
        return (u.hostname or ""), u.port
    if e.startswith("["):  # [::1]:8080
        host, _, rest = e[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if e.count(":") == 1:
        host, port = e.split(":")
        return host, int(port) if port.isdigit() else None
    return e, None


class HostRule:
    """The allowed hosts of one source (see the module docstring for the rule).

    ``allowed_hosts``: entries ``host`` or ``host:port``; ``base_url``: the source's site (its host and
    port are added). ``resolver(host, port) -> [ip strings]`` defaults to ``socket.getaddrinfo``.
    """

    def __init__(self, allowed_hosts: Iterable[str], base_url: str | None = None, resolver=None):
        self.entries: list[tuple[str, int | None]] = []
        for h in allowed_hosts or []:
            if h and h.strip():
                self.entries.append(_split_entry(h))
        if base_url:
            u = urlsplit(base_url)
            if u.hostname:
                self.entries.append((u.hostname.lower(), u.port or NETWORK_SCHEMES.get(u.scheme)))
        self._resolver = resolver or _getaddrinfo
        self._cache: dict[tuple[str, int], list[str]] = {}

    @classmethod
    def for_source(cls, source: dict) -> "HostRule":
        """From a resolved source dict (``Source.resolved()``: ``allowed_hosts`` and ``base_url``)."""
        return cls(source.get("allowed_hosts") or [], source.get("base_url"))

    def __repr__(self) -> str:
        return f"HostRule({[h + (f':{p}' if p else '') for h, p in self.entries]})"

    def _named(self, host: str, port: int, exact: bool) -> bool:
        for h, p in self.entries:
            if p is not None and p != port:
                continue
            if host == h or (not exact and p is None and host.endswith("." + h)):
                return True
        return False

    def resolve(self, host: str, port: int) -> list[str]:
        key = (host, port)
        if key not in self._cache:
            try:
                ipaddress.ip_address(host)
                self._cache[key] = [host]
            except ValueError:
                self._cache[key] = self._resolver(host, port)
        return self._cache[key]

    def check(self, url: str, resolve: bool = True) -> str | None:
        """None if `url` may be requested, else why not. ``resolve=False`` skips the DNS step
        (IP literals and ``localhost`` are still judged)."""
        if url.startswith(LOCAL_SCHEMES):
            return None
        try:
            u = urlsplit(url)
            port = u.port
        except ValueError:
            return f"malformed URL {url[:200]}"
        scheme = u.scheme.lower()
        if scheme not in NETWORK_SCHEMES:
            return f"scheme {scheme or '(none)'} is not allowed ({url[:200]})"
        host = (u.hostname or "").lower().rstrip(".")
        if not host:
            return f"no host in {url[:200]}"
        port = port or NETWORK_SCHEMES[scheme]
        if not self._named(host, port, exact=False):
            return f"host {host}:{port} is not an allowed host of the source ({url[:200]})"
        if self._named(host, port, exact=True):
            return None  # the source names this very host (the sandbox, a test server, a CDN)
        if host == "localhost" or host.endswith(".localhost"):
            return f"{host} is a loopback name and the source does not name it ({url[:200]})"
        try:
            ips = [host] if _is_ip(host) else (self.resolve(host, port) if resolve else [])
        except OSError as e:
            return f"cannot resolve {host}: {e}"
        for ip in ips:
            if internal_address(ipaddress.ip_address(ip.split("%")[0])):
                return (f"{host} resolves to internal address {ip} (loopback/private/link-local/metadata) "
                        f"and the source does not name it ({url[:200]})")
        return None

    def allowed(self, url: str, resolve: bool = True) -> bool:
        return self.check(url, resolve=resolve) is None

    def require(self, url: str) -> None:
        """Raise :class:`HostBlocked` when `url` is refused."""
        why = self.check(url)
        if why:
            raise HostBlocked(why)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    out: list[str] = []
    for info in infos:
        ip = info[4][0]
        if ip not in out:
            out.append(ip)
    if not out:
        raise OSError(f"no address for {host}")
    return out


def import_image_path(base_dir: str | Path | None, ref: str) -> Path:
    """The file an imported listing's image reference names, only inside the listing file's own
    folder (matcher.paths.local_image_path: no absolute paths, no ``..``, no symlink leading out).
    Raises ``ValueError`` naming the reference otherwise (URLs are checked with :class:`HostRule`)."""
    from matcher.paths import local_image_path

    return local_image_path(base_dir, ref)
