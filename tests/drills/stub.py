"""A local HTTP stub standing in for the outbound webhook receiver and the HubSpot API.

It runs in a thread of the test process, so the worker (another process) reaches it over real HTTP.
Tests script it ("answer 500 three times, then 200"; "hold every notification until released") and
read what it saw. As a webhook receiver it honours `Idempotency-Key` the way DECISIONS.md asks a
receiver to: the first 2xx for a key is applied, a later one with the same key is only acknowledged.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOLD_LIMIT_SECONDS = 120  # a held request never outlives a failed test by more than this
_DEAL = re.compile(r"^/crm/v3/objects/deals/([^/?]+)")


class Stub:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Webhook receiver
        self.notify_script: list[int] = []  # statuses to answer before 200, consumed in order
        self.delivered: Counter[str] = Counter()  # key -> 2xx answers (a redelivery counts again)
        self.applied: set[str] = set()  # keys whose effect happened: once each, by construction
        self.refused: Counter[str] = Counter()  # key -> scripted failures answered
        self.bodies: dict[str, dict] = {}
        self.held: set[str] = set()  # keys of notification requests waiting at the gate right now
        self.ever_held: set[str] = set()
        self._gate = threading.Event()
        self._gate.set()
        # HubSpot API
        self.crm_script: dict[str, list[int]] = defaultdict(list)
        self.crm_fields: dict[str, dict] = {}
        self.crm_calls: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="drill-stub", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Stub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()

    # ---- scripting -----------------------------------------------------------------------------

    def fail_notifications(self, *statuses: int) -> None:
        with self.lock:
            self.notify_script = list(statuses)

    def hold_notifications(self) -> None:
        self._gate.clear()

    def release_notifications(self) -> None:
        self._gate.set()

    def script_deal(self, deal_id: str, *statuses: int, fields: dict | None = None) -> None:
        with self.lock:
            self.crm_script[deal_id] = list(statuses)
            if fields is not None:
                self.crm_fields[deal_id] = fields

    def keys_for(self, workflow_id: str) -> set[str]:
        with self.lock:
            return {key for key in self.delivered if key.startswith(workflow_id + ":")}

    # ---- serving -------------------------------------------------------------------------------

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet: pytest shows failures, not traffic
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _answer(self, status: int, payload: object = None) -> None:
                data = json.dumps(payload if payload is not None else {}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller was killed while we held its request: that is the drill

            def do_POST(self) -> None:
                body = self._body()
                if self.path.startswith("/notify"):
                    return self._notify(body)
                self._answer(200, {"id": "1"})  # CRM writes: tasks

            def do_PATCH(self) -> None:
                self._body()
                self._answer(200, {"id": "1"})  # CRM writes: commission release

            def do_GET(self) -> None:
                match = _DEAL.match(self.path)
                if not match:
                    return self._answer(404, {"message": "not found"})
                deal_id = match.group(1)
                with stub.lock:
                    stub.crm_calls[deal_id] += 1
                    script = stub.crm_script.get(deal_id)
                    status = script.pop(0) if script else 200
                    fields = stub.crm_fields.get(deal_id, {})
                if status != 200:
                    return self._answer(status, {"status": "error", "message": f"scripted {status}"})
                self._answer(200, {"id": deal_id, "properties": {"dealstage": "closedwon", **fields}})

            def _notify(self, body: bytes) -> None:
                key = self.headers.get("Idempotency-Key") or ""
                with stub.lock:
                    if not stub._gate.is_set():
                        stub.held.add(key)
                        stub.ever_held.add(key)
                stub._gate.wait(HOLD_LIMIT_SECONDS)
                with stub.lock:
                    stub.held.discard(key)
                    if stub.notify_script:
                        status = stub.notify_script.pop(0)
                        stub.refused[key] += 1
                    else:
                        status = 200
                        stub.delivered[key] += 1
                        if key not in stub.applied:
                            stub.applied.add(key)
                            stub.bodies[key] = json.loads(body or b"{}")
                self._answer(status, {"ok": status == 200})

        return Handler
