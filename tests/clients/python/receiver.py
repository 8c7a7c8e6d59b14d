#!/usr/bin/env python3
"""Partner-style webhook receiver, verifying deliveries with the `standardwebhooks` library.

Usage:
  receiver.py --port P --secret whsec_... [--secret whsec_...] --out FILE
              [--mode ok|fail|slow] [--slow-ms N]

  POST /webhook   verify signature (401 if invalid), then by mode:
                    ok   -> append one JSON line to FILE, answer 204
                    fail -> answer 500 (nothing recorded)
                    slow -> sleep slow-ms, answer 200 (nothing recorded; the sender
                            has timed out by then and will retry)
                  A repeated webhook-id is still accepted, recorded with "duplicate": true.
  POST /_control  {"mode": "ok"|"fail"|"slow", "slowMs": N} switches behaviour at run time.
  GET  /_health   200 "ok".

Prints "listening on PORT" once ready (--port 0 picks a free port).
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

MODES = ("ok", "fail", "slow")


class State:
    """Everything the handler threads share, behind one lock."""

    def __init__(self, secrets, out_path, mode, slow_ms):
        # One verifier per secret: during a rotation either secret may be the one that signed.
        self.verifiers = [Webhook(s) for s in secrets]
        self.out_path = out_path
        self.mode = mode
        self.slow_ms = slow_ms
        self.seen_ids = set()
        self.lock = threading.Lock()

    def verify(self, body, headers):
        """(True, parsed payload) if any secret verifies the delivery, else (False, None)."""
        for wh in self.verifiers:
            try:
                return True, wh.verify(body, headers)
            except Exception:  # bad/missing headers, stale timestamp, no matching signature
                continue
        return False, None

    def record(self, webhook_id, timestamp, payload):
        """Dedupe by webhook-id and append one JSON line for this accepted delivery."""
        with self.lock:
            duplicate = webhook_id in self.seen_ids
            self.seen_ids.add(webhook_id)
            line = {"webhookId": webhook_id, "timestamp": timestamp,
                    "duplicate": duplicate, "payload": payload}
            with open(self.out_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real endpoint
    state: State  # set on the class in main()

    def log_message(self, fmt, *args):  # one short line per request on stderr
        sys.stderr.write("receiver: %s\n" % (fmt % args))

    def reply(self, status, body=b"", content_type="text/plain"):
        try:
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender gave up (e.g. timed out in slow mode)

    def read_body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        if self.path == "/_health":
            self.reply(200, b"ok")
        else:
            self.reply(404, b"not found")

    def do_POST(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self.reply(411, b"Content-Length required")
        body = self.read_body()
        if self.path == "/webhook":
            self.webhook(body)
        elif self.path == "/_control":
            self.control(body)
        else:
            self.reply(404, b"not found")

    def webhook(self, body):
        st = self.state
        headers = {name: self.headers.get(name)
                   for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        ok, payload = st.verify(body, headers)
        if not ok:
            return self.reply(401, b"invalid signature")

        with st.lock:
            mode, slow_ms = st.mode, st.slow_ms
        if mode == "fail":
            return self.reply(500, b"simulated failure")
        if mode == "slow":
            time.sleep(slow_ms / 1000)
            return self.reply(200, b"too late")

        st.record(headers["webhook-id"], headers["webhook-timestamp"], payload)
        self.reply(204)

    def control(self, body):
        st = self.state
        try:
            req = json.loads(body or b"{}")
            mode = req.get("mode")
            slow_ms = req.get("slowMs")
            if mode is not None and mode not in MODES:
                raise ValueError("mode must be one of %s" % (MODES,))
            if slow_ms is not None and (not isinstance(slow_ms, int) or slow_ms < 0):
                raise ValueError("slowMs must be a non-negative integer")
        except (ValueError, AttributeError) as e:
            return self.reply(400, str(e).encode())
        with st.lock:
            if mode is not None:
                st.mode = mode
            if slow_ms is not None:
                st.slow_ms = slow_ms
            now = {"mode": st.mode, "slowMs": st.slow_ms}
        self.reply(200, json.dumps(now).encode(), "application/json")


def main():
    p = argparse.ArgumentParser(description="Standard Webhooks test receiver")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", action="append", required=True,
                   help="whsec_... (repeat during a secret rotation)")
    p.add_argument("--out", required=True, help="append accepted deliveries here (JSON lines)")
    p.add_argument("--mode", choices=MODES, default="ok")
    p.add_argument("--slow-ms", type=int, default=5000)
    args = p.parse_args()

    Handler.state = State(args.secret, args.out, args.mode, args.slow_ms)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True  # don't wait for sleeping slow-mode handlers on exit
    print("listening on %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
