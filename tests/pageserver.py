"""A local web server on a free port serving fixed pages (saved shop pages, test pages).

It also answers as a plain HTTP proxy (absolute-form request lines), so a source whose
``base_url`` is a name that does not resolve can be crawled through it; every request's path,
``Cookie`` and ``Proxy-Authorization`` headers are recorded for assertions.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class PageServer:
    def __init__(self, pages: dict[str, tuple[bytes, str]]):
        """pages: path → (body, content type)."""
        self.pages = dict(pages)
        self.requests: list[dict] = []
        srv = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                u = urlsplit(self.path)
                path = u.path + (f"?{u.query}" if u.query else "")
                srv.requests.append({"path": path, "absolute": self.path.startswith("http"),
                                     "host": u.hostname, "cookie": self.headers.get("Cookie"),
                                     "proxy_auth": self.headers.get("Proxy-Authorization"),
                                     "user_agent": self.headers.get("User-Agent")})
                hit = srv.pages.get(path) or srv.pages.get(u.path)
                if hit is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, ctype = hit
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
