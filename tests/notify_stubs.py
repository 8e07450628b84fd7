"""Local stand-ins for what notifications reach: an HTTP server for the Slack webhook and the outbound
webhook, and a real SMTP server (aiosmtpd), both on loopback at a random port, recording what arrives.
A pytest plugin (tests/conftest.py lists it): the fixtures below are there for every test module."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.message
import email.policy
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclasses.dataclass
class HttpRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpStub:
    """Raw HTTP/1.1 on loopback; answers each request with the next queued status, then 200."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []
        self.statuses: list[int] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/services/T000/B000/tok3n"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request_line := await reader.readline():
                path = request_line.decode().split(" ")[1]
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(HttpRequest(path, headers, body))
                status = self.statuses.pop(0) if self.statuses else 200
                writer.write(f"HTTP/1.1 {status} Stub\r\nContent-Length: 2\r\n\r\nok".encode())
                await writer.drain()
        finally:
            writer.close()


@dataclasses.dataclass
class SmtpMessage:
    mail_from: str
    rcpt_to: list[str]
    message: email.message.EmailMessage


class SmtpRecorder:
    """An aiosmtpd handler: records each accepted message with its envelope. `rcpt_code` refuses every
    recipient with that code; `refuse` refuses some addresses (with their codes)."""

    def __init__(self) -> None:
        self.messages: list[SmtpMessage] = []
        self.rcpt_code = 250
        self.refuse: dict[str, int] = {}

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        code = self.refuse.get(address, self.rcpt_code)
        if code != 250:
            return f"{code} recipient refused"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.messages.append(SmtpMessage(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpStub(SmtpRecorder):
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: SMTP(self, hostname="stub.test"), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]


@pytest.fixture
async def http_factory() -> AsyncIterator[Callable[[], Coroutine[Any, Any, HttpStub]]]:
    stubs: list[HttpStub] = []

    async def make() -> HttpStub:
        stub = HttpStub()
        await stub.start()
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.server.close()


@pytest.fixture
async def slack(http_factory) -> HttpStub:
    stub: HttpStub = await http_factory()
    return stub


@pytest.fixture
async def webhook(http_factory) -> HttpStub:
    stub: HttpStub = await http_factory()
    return stub


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpStub]:
    stub = SmtpStub()
    await stub.start()
    yield stub
    stub.server.close()
