"""A fake webhook receiver of Alertmanager's notifications: what an ntfy topic or a generic
webhook receives from a ``webhook_configs`` entry.

Alertmanager posts JSON (its notify/webhook package, payload version "4"):
``{version, groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels,
commonAnnotations, externalURL, alerts: [{status, labels, annotations, startsAt, endsAt,
generatorURL, fingerprint}]}``. Every notification is recorded with the path it was posted
to (a test gives each receiver its own path) and its query (ntfy's templates travel there);
one that breaks that shape is a contract violation. The fake answers 200, as ntfy does when it publishes.
"""

import json
import urllib.parse

from fakes import FakeHandler, FakeServer

PAYLOAD_KEYS = {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
                "commonAnnotations", "externalURL", "alerts"}
ALERT_KEYS = {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}


class FakeAlertReceiver(FakeServer):
    """Notifications arrive in ``requests`` as ``{method, path, query, payload}``; ``alerts(path)`` lists
    the alerts posted to a path, and ``contract_violations`` what did not follow the payload."""

    thread_name = "fake-alert-receiver"
    handler_class = property(lambda self: _ReceiverHandler)

    def __init__(self):
        super().__init__()
        self.contract_violations = []

    def alerts(self, path=None):
        """Every alert received (on ``path`` only, if given), oldest first, with the receiver's
        name and the notification's query."""
        with self._lock:
            return [dict(alert, receiver=entry["payload"]["receiver"], query=entry["query"]) for entry in self.requests
                    if path is None or entry["path"] == path for alert in entry["payload"].get("alerts", [])]

    def check(self, payload):
        """What in ``payload`` breaks Alertmanager's webhook payload (a list of messages)."""
        problems = []
        if not isinstance(payload, dict):
            return ["the body is not a JSON object"]
        if PAYLOAD_KEYS - set(payload):
            problems.append("missing keys %s" % sorted(PAYLOAD_KEYS - set(payload)))
        if payload.get("version") != "4":
            problems.append("version %r, not '4'" % payload.get("version"))
        for index, alert in enumerate(payload.get("alerts") or []):
            if ALERT_KEYS - set(alert):
                problems.append("alerts[%d] misses %s" % (index, sorted(ALERT_KEYS - set(alert))))
        return problems


class _ReceiverHandler(FakeHandler):
    def handle_request(self):
        fake = self.fake
        body = self.read_body()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        problems = fake.check(payload) if self.command == "POST" else ["%s, not POST" % self.command]
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            problems.append("Content-Type %r" % self.headers.get("Content-Type"))
        with fake._lock:  # pylint: disable=protected-access
            fake.contract_violations.extend("%s %s: %s" % (self.command, self.path, problem) for problem in problems)
        parts = urllib.parse.urlsplit(self.path)
        fake.record({"method": self.command, "path": parts.path, "query": urllib.parse.parse_qs(parts.query),
                     "payload": payload if isinstance(payload, dict) else {}})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
