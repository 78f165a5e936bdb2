"""Serves chromium_page.html, starts headless Chromium on it and waits for
the page to post its result. Exit status 0 only if the page reports success.

Usage: chromium_driver.py WS_URL [TIMEOUT_SECONDS] [WARM_URL [SPKI_HASH]]

WARM_URL: fetched by the page before it opens the socket (for WebSockets
over HTTP/2, which Chromium opens only on a connection it holds already).
SPKI_HASH: the base64 SHA-256 of a test certificate's public key, which
Chromium then trusts (--ignore-certificate-errors-spki-list).
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
result = {}
done = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(os.path.join(HERE, "chromium_page.html"), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if not done.is_set():
            result.update(json.loads(self.rfile.read(length) or b"{}"))
            done.set()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    ws_url = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 180
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    warm = sys.argv[3] if len(sys.argv) > 3 else None
    spki = sys.argv[4] if len(sys.argv) > 4 else None
    query = {"ws": ws_url}
    if warm:
        query["warm"] = warm
    page = "http://127.0.0.1:%d/?%s" % (server.server_address[1], urllib.parse.urlencode(query))
    profile = tempfile.mkdtemp(prefix="chromium-interop-")
    trust = ["--ignore-certificate-errors-spki-list=" + spki] if spki else []
    browser = subprocess.Popen(
        [shutil.which("chromium") or "/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-quic", "--user-data-dir=" + profile] + trust + [page],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not done.wait(timeout):
            sys.exit("chromium interop: no result from the page within %d s" % timeout)
    finally:
        browser.kill()
        browser.wait()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print("chromium interop:", result.get("detail"))
    sys.exit(0 if result.get("ok") else 1)


main()
