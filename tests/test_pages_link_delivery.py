"""Sign-in links leave by e-mail (a real SMTP conversation with a local server) and by Slack DM
(chat.postMessage as Slack documents it); a channel that fails does not stop the other."""

from __future__ import annotations

import json

import httpx

from api.pages.link_delivery import DirectLinkSender
from api.pages.settings import PageSettings
from bench.stack import free_port
from domain.directory import Person

MARIA = Person(id="maria", name="María López", email="maria.lopez@example.com", slack_id="U01MARIA")
LINK = "https://baton.example.com/signin/link?token=abc.def"


def slack_api(answers: list[dict], seen: list[httpx.Request]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answers.pop(0))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_the_link_goes_by_email(smtp):
    # The SMTP stub of tests/notify_stubs.py.
    settings = PageSettings(
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="baton@example.com", smtp_starttls=False
    )
    channels = await DirectLinkSender(settings).send(MARIA, LINK, 15)
    assert channels == ["email"]
    [sent] = smtp.messages
    message = sent.message
    assert sent.mail_from == "baton@example.com" and sent.rcpt_to == ["maria.lopez@example.com"]
    assert message["Subject"] == "Your Baton sign-in link" and message["Message-ID"]
    body = message.get_payload(decode=True).decode()
    assert LINK in body and "María López" in body and "15 minutes" in body


async def test_the_link_goes_by_slack_dm_and_a_dead_mail_server_does_not_stop_it():
    seen: list[httpx.Request] = []
    http = slack_api([{"ok": True, "channel": "D024BE91L", "ts": "1503435956.000247"}], seen)
    settings = PageSettings(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_from="baton@example.com", slack_bot_token="xoxb-test-token"
    )
    channels = await DirectLinkSender(settings, http=http).send(MARIA, LINK, 15)
    assert channels == ["slack"]
    request = seen[0]
    assert str(request.url) == "https://slack.com/api/chat.postMessage"
    assert request.headers["Authorization"] == "Bearer xoxb-test-token"
    body = json.loads(request.content)
    assert body["channel"] == "U01MARIA" and LINK in body["text"]


async def test_a_slack_refusal_is_no_delivery():
    seen: list[httpx.Request] = []
    http = slack_api([{"ok": False, "error": "invalid_auth"}], seen)
    settings = PageSettings(slack_bot_token="xoxb-revoked")
    assert await DirectLinkSender(settings, http=http).send(MARIA, LINK, 15) == []


async def test_nothing_configured_sends_nothing():
    assert await DirectLinkSender(PageSettings()).send(MARIA, LINK, 15) == []
    no_slack_id = MARIA.model_copy(update={"slack_id": None})
    assert await DirectLinkSender(PageSettings(slack_bot_token="xoxb-x")).send(no_slack_id, LINK, 15) == []
