"""WARC 1.1 records of evidence exchanges: request/response pairs with WARC-IP-Address, the
redirect kept as its own record, and over TLS the peer certificate's SHA-256 in a metadata record."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.hosts import HostBlocked, HostRule
from crawler.warc import WarcLog, fetch_once


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/item/7")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = "<h1>高仿 茅台</h1>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")

    def log_message(self, *a):
        pass


def tls_material(tmp_path):
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.test")])
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return tmp_path / "c.pem", tmp_path / "k.pem", hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest.fixture
def https_server(tmp_path):
    cert, key, fp = tls_material(tmp_path)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    cctx = ssl.create_default_context(cafile=str(cert))
    yield f"https://127.0.0.1:{srv.server_address[1]}", cctx, fp
    srv.shutdown()
    srv.server_close()


def test_tls_exchange_and_redirect_are_recorded(https_server, tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    base, ctx, fp = https_server
    rule = HostRule([], base)
    r1 = fetch_once(rule, "GET", base + "/old", {"User-Agent": "Mozilla/5.0"}, ssl_context=ctx)
    assert r1.status == 301 and r1.header("location") == "/item/7"
    r2 = fetch_once(rule, "GET", base + "/item/7", {"User-Agent": "Mozilla/5.0"}, ssl_context=ctx)
    assert r2.status == 200 and r2.body == "<h1>高仿 茅台</h1>".encode()
    assert r2.ip == "127.0.0.1" and r2.tls_cert_sha256 == fp and r2.tls_version.startswith("TLS")
    w = WarcLog(tmp_path / "c.warc.gz")
    w.add(r1)
    w.add(r2)
    w.write()
    with gzip.open(tmp_path / "c.warc.gz", "rb") as fh:
        assert fh.read(8) == b"WARC/1.1"
    with open(tmp_path / "c.warc.gz", "rb") as fh:
        recs = [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read()) for r in ArchiveIterator(fh)]
    types = [t for t, *_ in recs]
    assert types == ["warcinfo", "request", "response", "metadata", "request", "response", "metadata"]
    resp = [r for r in recs if r[0] == "response"]
    assert [r[2].get_statuscode() for r in resp] == ["301", "200"]
    assert resp[0][2].get_header("Location") == "/item/7"
    assert all(r[1].get_header("WARC-IP-Address") == "127.0.0.1" for r in recs if r[0] in ("request", "response"))
    assert resp[1][1].get_header("WARC-Peer-Certificate-SHA256") == fp
    assert resp[1][3] == "<h1>高仿 茅台</h1>".encode()  # de-chunked body with its real length
    assert resp[1][2].get_header("Content-Length") == str(len(resp[1][3]))
    meta = [r for r in recs if r[0] == "metadata"]
    assert f"tls-peer-certificate-sha256: {fp}".encode() in meta[-1][3]
    req = [r for r in recs if r[0] == "request"][1]
    assert req[2].protocol == "GET" and req[2].get_header("User-Agent") == "Mozilla/5.0"


def test_refused_url_is_never_connected(https_server):
    base, ctx, _ = https_server
    rule = HostRule([], "https://127.0.0.1:1")  # another port of the same host: not named
    with pytest.raises(HostBlocked):
        fetch_once(rule, "GET", base + "/item/7", {}, ssl_context=ctx)
