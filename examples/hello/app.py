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
        if self.close_connection:
            self.send_header("Connection", "close")  # the client asked to close: HTTP/1.1 says the answer tells it so
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), format % args))
        sys.stdout.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: HAProxy opening 8 connections at once lost SYNs, each a 1 s wait
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # HAProxy closes the idle keep-alive connections it drops with a reset, by design (no TIME_WAIT
        # left on its side), and a client may go away mid-answer: neither is an error of this app.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    port = int(os.environ.get("PORT", "5000"))
    server = Server(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
