#!/usr/bin/env python3
"""The on-call end of the demo: what deploy/alertmanager.yml's receivers deliver to, recorded.

One process, on loopback unless --listen-host says otherwise:
  POST /pager/TEAM   Alertmanager's webhook JSON (webhook_configs)     -> receiver pager-TEAM
  POST /slack/TEAM   Slack's incoming-webhook JSON (slack_configs)     -> receiver chat-TEAM
  SMTP on --smtp-port (Debian's python3-aiosmtpd; email_configs)      -> receiver email:ADDRESS
  GET /              every notification so far, newest first (HTML)
  GET /notifications the same as JSON, oldest first

Every notification is appended to --log as one JSON line: received (Unix seconds), receiver,
kind (pager, chat, email), status (firing, resolved), alerts (alert names), title, and the
text or alerts it carried.

    receivers.py --http-port 9095 --smtp-port 2525 --log notifications.jsonl
"""
import argparse
import email
import email.policy
import html
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TITLE = re.compile(r"\[(FIRING|RESOLVED)(?::\d+)?\]\s+(\S+)")  # deploy/alertmanager.tmpl's title


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.items = []

    def add(self, item):
        item["received"] = round(time.time(), 3)
        with self.lock:
            self.items.append(item)
            with open(self.path, "a") as f:
                f.write(json.dumps(item) + "\n")

    def all(self):
        with self.lock:
            return list(self.items)


def from_title(title):
    m = TITLE.search(title or "")
    return (m.group(1).lower(), [m.group(2)]) if m else ("?", [])


def pager_item(team, body):
    alerts = body.get("alerts") or []
    return {
        "receiver": body.get("receiver") or f"pager-{team}", "kind": "pager",
        "status": body.get("status", "?"),
        "alerts": sorted({a.get("labels", {}).get("alertname", "?") for a in alerts}),
        "title": f"[{body.get('status', '?').upper()}:{len(alerts)}] "
                 f"{(body.get('commonLabels') or {}).get('alertname', '?')}",
        "details": [{"status": a.get("status"), "labels": a.get("labels", {}),
                     "summary": a.get("annotations", {}).get("summary"),
                     "description": a.get("annotations", {}).get("description"),
                     "runbook_url": a.get("annotations", {}).get("runbook_url"),
                     "status_page": a.get("generatorURL"),
                     "startsAt": a.get("startsAt"), "endsAt": a.get("endsAt")} for a in alerts],
    }


def slack_item(team, body):
    att = (body.get("attachments") or [{}])[0]
    title = att.get("title") or body.get("text", "")
    status, alerts = from_title(title)
    return {"receiver": f"chat-{team}", "kind": "chat", "channel": body.get("channel"),
            "status": status, "alerts": alerts, "title": title, "text": att.get("text", "")}


def page(items):
    rows = "".join(
        f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(i['received']))}</td><td>{html.escape(i['receiver'])}</td>"
        f"<td>{html.escape(i['status'])}</td><td>{html.escape(i.get('title', ''))}</td>"
        f"<td><pre>{html.escape(i.get('text') or json.dumps(i.get('details', ''), indent=1))}</pre></td></tr>"
        for i in reversed(items))
    return ("<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5><title>vigil on-call</title>"
            "<style>body{font-family:sans-serif}td{vertical-align:top;border-top:1px solid #ccc;padding:4px}"
            "pre{white-space:pre-wrap;margin:0}</style>"
            f"<h1>Notifications ({len(items)})</h1><table><tr><th>time<th>receiver<th>status<th>title<th>content"
            f"{rows}</table>")


def make_handler(rec):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet: the JSONL file is the log
            pass

        def reply(self, code, body, ctype="text/plain"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/notifications":
                self.reply(200, json.dumps(rec.all()), "application/json")
            elif self.path in ("/", "/index.html"):
                self.reply(200, page(rec.all()), "text/html; charset=utf-8")
            elif self.path == "/-/ready":
                self.reply(200, "ok")
            else:
                self.reply(404, "not found")

        def do_POST(self):
            parts = self.path.strip("/").split("/")
            if len(parts) != 2 or parts[0] not in ("pager", "slack") or not parts[1]:
                return self.reply(404, "not found")
            n = int(self.headers.get("Content-Length") or 0)
            if n > 4 << 20:
                return self.reply(413, "too large")
            try:
                body = json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                return self.reply(400, "not JSON")
            rec.add((pager_item if parts[0] == "pager" else slack_item)(parts[1], body))
            self.reply(200, "ok")  # Slack answers "ok"

    return Handler


class MailHandler:
    """aiosmtpd handler: one record per recipient of each message."""

    def __init__(self, rec):
        self.rec = rec

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        text = part.get_content() if part is not None else ""
        status, alerts = from_title(str(msg["Subject"] or ""))
        for to in envelope.rcpt_tos:
            self.rec.add({"receiver": f"email:{to}", "kind": "email", "status": status, "alerts": alerts,
                          "title": str(msg["Subject"] or ""), "text": text})
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--log", required=True, help="JSONL file, appended to")
    ap.add_argument("--listen-host", default="127.0.0.1", help="address of both servers (compose: 0.0.0.0)")
    args = ap.parse_args()
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        sys.exit("receivers.py: aiosmtpd is missing (Debian: apt-get install python3-aiosmtpd; "
                 "run with /usr/bin/python3)")
    rec = Recorder(args.log)
    smtp = Controller(MailHandler(rec), hostname=args.listen_host, port=args.smtp_port)
    smtp.start()
    httpd = ThreadingHTTPServer((args.listen_host, args.http_port), make_handler(rec))
    print(f"receivers: http://{args.listen_host}:{args.http_port}/ smtp {args.listen_host}:{args.smtp_port} log {args.log}",
          flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        smtp.stop()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
