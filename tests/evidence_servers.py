"""Local servers for the evidence tests (127.0.0.1, free ports, stopped by the tests).

* :class:`LocalTSA` - an RFC 3161 timestamp authority: a throwaway CA and TSA certificate made
  with ``cryptography``, replies signed by ``openssl ts -reply``.
* :class:`Site` - a tiny shop page server and an "internal" server that records every request it
  receives (it must receive none).
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OPENSSL = shutil.which("openssl")

TSA_CONF = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {d}
serial = {d}/serial
crypto_device = builtin
signer_cert = {d}/tsa.pem
signer_key = {d}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _make_pki(d: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "markwatch test TSA root")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "markwatch test TSA")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "tsa.pem").write_bytes(cert.public_bytes(pem))
    (d / "tsa.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    (d / "serial").write_text("01\n")
    (d / "tsa.cnf").write_text(TSA_CONF.format(d=d))


class LocalTSA:
    """``with LocalTSA() as tsa: tsa.url, tsa.ca_file, tsa.requests``; ``tsa.fail = True`` answers 500."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="mw-tsa-"))
        _make_pki(self.dir)
        self.requests = 0
        self.fail = False
        self.lock = threading.Lock()
        tsa = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if tsa.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                with tsa.lock:
                    tsa.requests += 1
                    q, r = tsa.dir / "q.tsq", tsa.dir / "r.tsr"
                    q.write_bytes(body)
                    subprocess.run([OPENSSL, "ts", "-reply", "-config", str(tsa.dir / "tsa.cnf"), "-queryfile",
                                    str(q), "-out", str(r)], check=True, capture_output=True)
                    out = r.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsr"
        self.ca_file = self.dir / "ca.pem"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


class _Server:
    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Site:
    """A shop on one port and an internal server on another (same 127.0.0.1).

    ``/item/<id>`` is a product page that embeds an iframe, image, script, fetch() and a websocket
    aimed at the internal server; browsers (User-Agent containing "Mozilla") asking for
    ``/item/r<id>`` are redirected (302) to the internal server, other clients get the page;
    ``/item/j<id>`` navigates there by script (``location.replace``).
    ``/search?q=`` lists both items. ``internal_hits`` lists every path the internal server got.
    """

    def __init__(self, title: str = "高仿茅台酒 53度 飞天 500ml"):
        self.internal_hits: list[str] = []
        self.shop_hits: list[str] = []
        hits = self.internal_hits

        class Internal(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                body = b"<h1>INTERNAL ADMIN PAGE</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *a):
                pass

        self.internal = _Server(Internal)
        iu = self.internal.url
        site = self

        class Shop(BaseHTTPRequestHandler):
            def _send(self, code, body: bytes, ctype="text/html; charset=utf-8", extra=()):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                for k, v in extra:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                site.shop_hits.append(self.path)
                ua = self.headers.get("User-Agent", "")
                p = self.path
                if p.startswith("/robots.txt"):
                    return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                if p.startswith("/search"):
                    body = ('<html><body><a class="item" href="/item/r1">r1</a>'
                            '<a class="item" href="/item/e2">e2</a><a class="item" href="/item/j3">j3</a></body></html>')
                    return self._send(200, body.encode())
                if p.startswith("/img/"):
                    return self._send(200, _png(), "image/png")
                if p.startswith("/item/"):
                    lid = p.split("/")[2].split("?")[0]
                    if lid.startswith("r") and "Mozilla" in ua:
                        return self._send(302, b"", extra=[("Location", f"{iu}/admin?from={lid}")])
                    body = f"""<html><head><title>{title}</title></head><body>
<h1 class="title">{title}</h1><span class="price">¥99</span><span class="id">{lid}</span>
<span class="seller" data-id="s1">假货小店</span><span class="loc">广东省广州市</span>
<img class="pic" src="/img/{lid}.png"><img src="{iu}/track.png">
<iframe src="{iu}/frame"></iframe><script src="{iu}/s.js"></script>
{'<script>location.replace("' + iu + '/js-nav")</script>' if lid.startswith("j") else ""}
<script>fetch("{iu}/api").catch(function(){{}}); try {{ new WebSocket("ws://127.0.0.1:{site.internal.port}/ws"); }} catch (e) {{}}</script>
</body></html>"""
                    return self._send(200, body.encode())
                return self._send(404, b"not found")

            def log_message(self, *a):
                pass

        self.shop = _Server(Shop)
        self.url = self.shop.url

    def stop(self):
        self.shop.stop()
        self.internal.stop()


def _png() -> bytes:
    import io

    from PIL import Image

    b = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(b, "PNG")
    return b.getvalue()
