"""The example app: answers every GET with its greeting, its release and $MESSAGE."""
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import greeting

VERSION = "v1"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers and load balancers use it
    # headers and body go out in two writes: with Nagle on, a keep-alive client waits ~40 ms for the body
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path == "/up":
            body = b"ok\n"
        else:
            text = f"{greeting.greet(os.environ.get('MESSAGE', 'hello'))} ({VERSION}, {os.environ.get('SARGE_INSTANCE', 'local')})\n"
            body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), format % args))
        sys.stdout.flush()


def main():
    port = int(os.environ.get("PORT", "5000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
