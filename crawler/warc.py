"""Fetch one HTTP exchange under the allowed-host rule and keep it as WARC 1.1 records.

The evidence browser (``crawler.screenshot``) does not touch the network itself: every request it
makes is handed to :func:`fetch_once`, which checks ``crawler.hosts.HostRule``, connects to exactly
the address that was checked (no second DNS lookup: no rebinding between check and connect), sends
the request without following redirects (the browser follows them, and each hop comes back here to
be checked again), and returns an :class:`Exchange` with the status, headers, body, the server's IP
address and, over TLS, the SHA-256 fingerprint of the peer certificate (DER).

:class:`WarcLog` writes those exchanges with ``warcio`` as WARC/1.1 ``request`` + ``response``
records (``WARC-IP-Address``, ``WARC-Concurrent-To``, ``WARC-Date`` with microseconds), a
``metadata`` record per TLS response (certificate fingerprint, subject, protocol) and a final
``metadata`` record listing refused requests. Standard: ISO 28500:2017 (WARC 1.1).

Bodies are requested with ``Accept-Encoding: identity``; ``Transfer-Encoding: chunked`` is removed by
``http.client`` while reading, so the record's headers drop it and carry the real Content-Length
(``WARC-Payload-Note`` says so).
"""
from __future__ import annotations

import hashlib
import http.client
import io
import socket
import ssl
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from .hosts import HostBlocked, HostRule

MAX_BODY = 32 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer",
              "accept-encoding", "host", "content-length"}


@dataclass
class Exchange:
    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes = b""
    status: int = 0
    reason: str = ""
    http_version: str = "HTTP/1.1"
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    ip: str | None = None
    tls_cert_sha256: str | None = None
    tls_subject: str | None = None
    tls_version: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    error: str | None = None

    def summary(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("request_headers", "request_body",
                                                                 "response_headers", "body")}
        d["started"] = self.started.isoformat()
        d["location"] = self.header("location")
        d["sha256"] = hashlib.sha256(self.body).hexdigest() if self.status else None
        return d

    def header(self, name: str) -> str | None:
        for k, v in self.response_headers:
            if k.lower() == name.lower():
                return v
        return None


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, ip, timeout, context):
        super().__init__(host, port, timeout=timeout, context=context)
        self._ip = ip
        self._ctx = context

    def connect(self):
        raw = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(raw, server_hostname=self.host)


def fetch_once(rule: HostRule, method: str, url: str, headers: dict[str, str] | list[tuple[str, str]],
               body: bytes | None = None, timeout: float = 20.0,
               ssl_context: ssl.SSLContext | None = None) -> Exchange:
    """One request, no redirects followed. Raises :class:`crawler.hosts.HostBlocked` when the rule
    refuses the URL; network errors come back as ``Exchange.error``."""
    rule.require(url)
    u = urlsplit(url)
    host = (u.hostname or "").lower()
    https = u.scheme.lower() == "https"
    port = u.port or (443 if https else 80)
    hdrs = [(k, v) for k, v in (headers.items() if isinstance(headers, dict) else headers)
            if k.lower() not in HOP_BY_HOP and not k.startswith(":")]
    hdrs.append(("Accept-Encoding", "identity"))
    ex = Exchange(url=url, method=method.upper(), request_headers=hdrs, request_body=body or b"")
    try:
        ip = rule.resolve(host, port)[0]
        if https:
            conn = _PinnedHTTPS(host, port, ip, timeout, ssl_context or ssl.create_default_context())
        else:
            conn = _PinnedHTTP(host, port, ip, timeout)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn.putrequest(ex.method, path, skip_accept_encoding=True)
        for k, v in hdrs:
            conn.putheader(k, v)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        ex.request_headers = [("Host", u.netloc)] + hdrs
        peer = conn.sock.getpeername()
        ex.ip = peer[0]
        if https:
            der = conn.sock.getpeercert(binary_form=True)
            if der:
                ex.tls_cert_sha256 = hashlib.sha256(der).hexdigest()
            info = conn.sock.getpeercert() or {}
            ex.tls_subject = ", ".join("=".join(x) for rdn in info.get("subject", ()) for x in rdn) or None
            ex.tls_version = conn.sock.version()
        r = conn.getresponse()
        ex.status, ex.reason = r.status, r.reason
        ex.http_version = "HTTP/1.0" if r.version == 10 else "HTTP/1.1"
        ex.response_headers = list(r.getheaders())
        ex.body = r.read(MAX_BODY + 1)[:MAX_BODY]
        conn.close()
    except HostBlocked:
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as e:
        ex.error = f"{type(e).__name__}: {e}"[:300]
    return ex


def browser_headers(ex: Exchange) -> dict[str, str]:
    """Response headers to hand back to the browser (one value per name; Set-Cookie joined by newlines)."""
    out: dict[str, str] = {}
    for k, v in ex.response_headers:
        kl = k.lower()
        if kl in ("transfer-encoding", "content-length", "connection", "keep-alive"):
            continue
        out[k] = out[k] + "\n" + v if k in out else v
    return out


# Headers whose values are the monitoring account's session secrets: never written into evidence
# that may leave the bureau in a referral pack (the name stays, so the record shows one was sent).
SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization", "set-cookie"}


def redact_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` with the values of :data:`SECRET_HEADERS` replaced by ``[redacted]``."""
    return [(k, "[redacted]" if k.lower() in SECRET_HEADERS else v) for k, v in headers]


class WarcLog:
    """Collects exchanges of one capture and writes them to ``path`` (a ``.warc.gz``)."""

    def __init__(self, path: Path, software: str = "markwatch evidence"):
        self.path = Path(path)
        self.exchanges: list[Exchange] = []
        self.refused: list[dict] = []
        self.software = software

    def add(self, ex: Exchange) -> None:
        self.exchanges.append(ex)

    def write(self, extra_info: dict | None = None) -> Path:
        from warcio.statusandheaders import StatusAndHeaders
        from warcio.warcwriter import WARCWriter

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".part")
        with open(tmp, "wb") as fh:
            w = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
            info = {"software": self.software, "format": "WARC File Format 1.1",
                    "conformsTo": "https://iso.org/standard/68004.html",
                    "description": "values of " + ", ".join(sorted(SECRET_HEADERS)) + " headers are redacted "
                                   "(session secrets of the monitoring account)", **(extra_info or {})}
            w.write_record(w.create_warcinfo_record(self.path.name, info))
            for ex in self.exchanges:
                if ex.error or not ex.status:
                    continue
                date = ex.started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                u = urlsplit(ex.url)
                path = (u.path or "/") + (f"?{u.query}" if u.query else "")
                req_h = StatusAndHeaders(f"{ex.method} {path} HTTP/1.1", redact_headers(ex.request_headers),
                                         is_http_request=True)
                resp_headers = [(k, v) for k, v in redact_headers(ex.response_headers) if k.lower() not in
                                ("transfer-encoding", "content-length")]
                resp_headers.append(("Content-Length", str(len(ex.body))))
                resp_h = StatusAndHeaders(f"{ex.status} {ex.reason}", resp_headers, protocol=ex.http_version)
                wh = {"WARC-Date": date}
                if ex.ip:
                    wh["WARC-IP-Address"] = ex.ip
                if ex.tls_cert_sha256:
                    wh["WARC-Peer-Certificate-SHA256"] = ex.tls_cert_sha256
                if any(k.lower() == "transfer-encoding" for k, _ in ex.response_headers):
                    wh["WARC-Payload-Note"] = "chunked transfer-encoding removed; Content-Length is the decoded size"
                resp = w.create_warc_record(ex.url, "response", payload=io.BytesIO(ex.body), http_headers=resp_h,
                                            warc_headers_dict=wh)
                rid = resp.rec_headers.get_header("WARC-Record-ID")
                req = w.create_warc_record(ex.url, "request", payload=io.BytesIO(ex.request_body),
                                           http_headers=req_h,
                                           warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": rid,
                                                              **({"WARC-IP-Address": ex.ip} if ex.ip else {})})
                w.write_record(req)
                w.write_record(resp)
                if ex.tls_cert_sha256:
                    body = (f"tls-peer-certificate-sha256: {ex.tls_cert_sha256}\n"
                            f"tls-peer-subject: {ex.tls_subject or ''}\ntls-version: {ex.tls_version or ''}\n")
                    w.write_record(w.create_warc_record(ex.url, "metadata", payload=io.BytesIO(body.encode()),
                                                        warc_content_type="application/warc-fields",
                                                        warc_headers_dict={"WARC-Date": date,
                                                                           "WARC-Refers-To": rid}))
            if self.refused:
                body = "".join(f"refused: {r['url']}\nreason: {r['reason']}\n" for r in self.refused)
                w.write_record(w.create_warc_record(f"urn:markwatch:refused:{self.path.name}", "metadata",
                                                    payload=io.BytesIO(body.encode("utf-8")),
                                                    warc_content_type="application/warc-fields"))
        tmp.replace(self.path)
        return self.path


def read_warc(path: Path) -> list[dict]:
    """Every record of a WARC file as {type, uri, date, ip, status, payload_sha256}; raises
    ``ValueError`` naming the file when it cannot be parsed (truncated, altered gzip, bad headers)."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    try:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, check_digests="raise"):
                h = rec.rec_headers
                payload = rec.content_stream().read()
                out.append({"type": rec.rec_type, "uri": h.get_header("WARC-Target-URI"),
                            "date": h.get_header("WARC-Date"), "ip": h.get_header("WARC-IP-Address"),
                            "status": rec.http_headers.get_statuscode() if rec.http_headers else None,
                            "payload_sha256": hashlib.sha256(payload).hexdigest()})
    except Exception as e:  # warcio raises several types for damaged input
        raise ValueError(f"{path}: not a readable WARC ({type(e).__name__}: {e})") from None
    return out
