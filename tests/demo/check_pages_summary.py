#!/usr/bin/env python3
"""The demo summary's notification lines (deploy/demo_timeline.py), on recorded notifications:
each page is told with its receiver, alert, delay from its timeline item's start and the
resolved notification's; one that never resolved says so; none at all says so.

    check_pages_summary.py REPO
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.abspath(sys.argv[1]), "deploy"))
import demo_timeline as dt  # noqa: E402

t0 = 1000.0
ran = [("steady", 1000.0), ("redis-freeze", 1060.0), ("recovery", 1180.0)]
notes = [
    {"received": 1010.0, "receiver": "chat-app", "kind": "chat", "status": "firing", "alerts": ["CacheHitRatioLow"]},
    {"received": 1140.0, "receiver": "pager-database", "kind": "pager", "status": "firing", "alerts": ["RedisDown"]},
    {"received": 1141.0, "receiver": "email:database-oncall@vigil.example", "kind": "email", "status": "firing",
     "alerts": ["RedisDown"]},
    {"received": 1150.0, "receiver": "pager-database", "kind": "pager", "status": "firing", "alerts": ["RedisDown"]},
    {"received": 1210.0, "receiver": "pager-database", "kind": "pager", "status": "resolved", "alerts": ["RedisDown"]},
]
failures = []


def check(what, cond):
    print(f"{'ok  ' if cond else 'FAIL'} {what}")
    if not cond:
        failures.append(what)


got = {(p["receiver"], p["alert"]): p for p in dt.pages(notes, ran, t0)}
page = got.get(("pager-database", "RedisDown"))
check("one page per receiver and alert", len(got) == 3 and page is not None)
check("the page arrived 80 s into redis-freeze", page and page["item"] == "redis-freeze" and page["after_item_start"] == 80)
check("its resolved notification 150 s after redis-freeze started (a repeat is not a new page)",
      page and page["resolved_after_item_start"] == 150 and page["resolved_at"] == 210)
check("the chat message 10 s into steady, never resolved",
      got[("chat-app", "CacheHitRatioLow")]["after_item_start"] == 10
      and got[("chat-app", "CacheHitRatioLow")]["resolved_at"] is None)
lines = dt.pages_summary(notes, ran, t0)
print("\n".join(lines))
check("pages come first in the summary", "pager-database" in lines[1])
check("the summary says the delays", "80 s into redis-freeze, resolved after 150 s" in lines[1])
check("and what never resolved", any("chat-app" in x and "not resolved by the end" in x for x in lines))
check("no notification at all is said", dt.pages_summary([], ran, t0) == ["no notification reached the receivers"])
check("the live view's line", dt.notification_line(notes[1], t0).split() == ["+2:20", "pager-database", "firing", "RedisDown"])
sys.exit(1 if failures else 0)
