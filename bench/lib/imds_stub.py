#!/usr/bin/env python3
"""A tiny EC2 instance metadata service (IMDSv2) for the agent benchmark, on 127.0.0.1.

  imds_stub.py --port N [--lead-seconds 120] [--instance-id i-...]

IMDSv2 only: PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds, 1..21600,
400 otherwise) returns a token; every GET needs X-aws-ec2-metadata-token with a token it
issued (401 otherwise). Items:
  /latest/meta-data/spot/instance-action             404 until armed, then a fixed
        {"action": "terminate", "time": "<armed + lead, RFC 3339 UTC, whole seconds>"}
  /latest/meta-data/events/recommendations/rebalance 404
  /latest/meta-data/events/maintenance/scheduled     []
  /latest/dynamic/instance-identity/document         JSON identity
  /latest/meta-data/instance-life-cycle              spot
Control (no token; the benchmark's own):
  POST /_arm    arm the notice (idempotent: the first arm fixes the time); replies JSON
  GET  /_state  {"armed_at", "notice_time", "first_served_at", "gets", "puts", ...} (epoch seconds)
"""
import argparse
import datetime as dt
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {
    "armed_at": None,          # epoch seconds of the arm
    "notice_time": None,       # RFC 3339 string served as "time"
    "notice_epoch": None,
    "first_served_at": None,   # epoch seconds when the notice was first sent (200)
    "served": 0,               # notices served
    "gets": 0,
    "puts": 0,
    "unauthorized": 0,
    "by_path": {},
}
TOKENS = set()


def make_handler(args):
    identity = json.dumps({
        "accountId": "123456789012", "architecture": "x86_64", "availabilityZone": "us-east-1a",
        "imageId": "ami-0123456789abcdef0", "instanceId": args.instance_id, "instanceType": "m5.large",
        "pendingTime": "2026-01-01T00:00:00Z", "privateIp": "10.0.0.10", "region": "us-east-1",
        "version": "2017-09-30",
    }, indent="\t")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "imds-stub"

        def log_message(self, fmt, *a):  # quiet: the agent polls every 2 s
            pass

        def reply(self, code, body=b"", ctype="text/plain"):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def drain(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)

        def do_PUT(self):
            self.drain()
            with LOCK:
                STATE["puts"] += 1
            if self.path != "/latest/api/token":
                return self.reply(404)
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.reply(400)
            token = secrets.token_urlsafe(32)
            with LOCK:
                TOKENS.add(token)
            self.reply(200, token)

        def do_POST(self):
            self.drain()
            if self.path != "/_arm":
                return self.reply(404)
            now = time.time()
            with LOCK:
                if STATE["armed_at"] is None:
                    STATE["armed_at"] = now
                    t = int(now + args.lead_seconds)  # whole seconds, as EC2 sends
                    STATE["notice_epoch"] = t
                    STATE["notice_time"] = dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                body = json.dumps({k: STATE[k] for k in ("armed_at", "notice_time", "notice_epoch")})
            self.reply(200, body, "application/json")

        def do_GET(self):
            if self.path == "/_state":
                with LOCK:
                    body = json.dumps(STATE)
                return self.reply(200, body, "application/json")
            token = self.headers.get("X-aws-ec2-metadata-token")
            with LOCK:
                STATE["gets"] += 1
                STATE["by_path"][self.path] = STATE["by_path"].get(self.path, 0) + 1
                ok = token in TOKENS
                if not ok:
                    STATE["unauthorized"] += 1
            if not ok:
                return self.reply(401)
            p = self.path
            if p == "/latest/meta-data/spot/instance-action":
                with LOCK:
                    if STATE["notice_time"] is None:
                        body = None
                    else:
                        body = json.dumps({"action": "terminate", "time": STATE["notice_time"]})
                        if STATE["first_served_at"] is None:
                            STATE["first_served_at"] = time.time()
                        STATE["served"] += 1
                return self.reply(404) if body is None else self.reply(200, body)
            if p == "/latest/meta-data/events/recommendations/rebalance":
                return self.reply(404)
            if p == "/latest/meta-data/events/maintenance/scheduled":
                return self.reply(200, "[]")
            if p == "/latest/dynamic/instance-identity/document":
                return self.reply(200, identity)
            if p == "/latest/meta-data/instance-life-cycle":
                return self.reply(200, "spot")
            if p == "/latest/meta-data/instance-id":
                return self.reply(200, args.instance_id)
            return self.reply(404)

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--lead-seconds", type=float, default=120)
    ap.add_argument("--instance-id", default="i-0bench000000000001")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args))
    server.daemon_threads = True
    print(f"imds stub listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
