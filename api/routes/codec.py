"""The codec server: the Temporal Web UI and CLI send encrypted payloads here to show them decoded.

Protocol (Temporal's remote codec): POST <endpoint>/encode and <endpoint>/decode with a `Payloads`
proto as JSON, `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`, answered
in the same shape. The UI and CLI also send `X-Namespace`; one keyring serves every namespace, so it
is accepted and not used. Point the UI at `http://<api host>/codec` (dev server:
`--ui-codec-endpoint http://127.0.0.1:8000/codec`); the CLI: `--codec-endpoint ... --codec-auth
"Bearer <operator key>"`.

Auth: an operator bearer key. The UI runs on another origin, so CORS allows that origin (with
credentials and the Authorization header) on these two paths only, never on the rest of the API.

With no codec keys configured the endpoints answer 404 "codec not configured" rather than pass
payloads through: a pass-through /encode would let the UI believe it had encrypted a signal's input.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Body, Depends, FastAPI, Header, HTTPException
from google.protobuf import json_format
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from api.deps import AUTH_RESPONSES, SettingsDep, roles_note
from api.session import require_session_or_roles
from infra.payload_codec import CodecError, EncryptionCodec

PREFIX = "/codec"

router = APIRouter(prefix=PREFIX, tags=["codec"])


class JsonPayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict, description="metadata values, base64")
    data: str = Field(default="", description="the payload's bytes, base64")


class JsonPayloads(BaseModel):
    payloads: list[JsonPayload] = Field(default_factory=list)


def _codec(settings: SettingsDep) -> EncryptionCodec:
    """The keyring the API's settings configure (BATON_CODEC_KEYS or BATON_CODEC_KEY_FILE)."""
    codec = settings.codec
    if codec is None:
        raise HTTPException(404, "codec not configured: set BATON_CODEC_KEYS or BATON_CODEC_KEY_FILE")
    return codec


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


_PLAIN = {"metadata": {"encoding": _b64(b"json/plain")}, "data": _b64(b'{"deal_id":"9876543210"}')}
# Shape only: the data is an illustrative nonce + ciphertext, not a decryptable value.
_SEALED = {
    "metadata": {"encoding": _b64(b"binary/encrypted"), "encryption-key-id": _b64(b"2026-11")},
    "data": _b64(bytes(range(12)) + b"ciphertext and 16-byte tag"),
}
EncodeBody = Annotated[JsonPayloads, Body(openapi_examples={
    "plain": {"summary": "a JSON payload, as the UI sends a signal's input", "value": {"payloads": [_PLAIN]}},
})]  # fmt: skip
DecodeBody = Annotated[JsonPayloads, Body(openapi_examples={
    "sealed": {"summary": "an encrypted payload from a history", "value": {"payloads": [_SEALED]}},
    "plain": {"summary": "a payload written before encryption: returned unchanged", "value": {"payloads": [_PLAIN]}},
})]  # fmt: skip

CodecDep = Annotated[EncryptionCodec, Depends(_codec)]
NamespaceHeader = Annotated[str | None, Header(alias="X-Namespace", description="sent by the UI and CLI; unused")]
_RESPONSES: dict[int | str, dict] = {
    **AUTH_RESPONSES,
    400: {"description": "a payload is not valid proto JSON, or cannot be decrypted (unknown key, wrong key, altered)"},
    404: {"description": "no codec keys are configured"},
}


def _parse(body: JsonPayloads) -> Payloads:
    try:
        return json_format.ParseDict(body.model_dump(), Payloads())
    except json_format.ParseError as err:
        raise HTTPException(400, f"not a Payloads proto in JSON: {err}") from None


def _dump(payloads: Payloads) -> JsonPayloads:
    # The proto's own JSON mapping (bytes as base64, camelCase names), as the protocol requires.
    return JsonPayloads.model_validate(json_format.MessageToDict(payloads))


@router.post(
    "/encode",
    summary="Encrypt payloads (Temporal codec server)",
    description="For the Temporal UI and CLI: payloads in, encrypted payloads out. " + roles_note("operator"),
    responses=_RESPONSES,
    dependencies=[Depends(require_session_or_roles("operator"))],
)
async def encode(body: EncodeBody, codec: CodecDep, x_namespace: NamespaceHeader = None) -> JsonPayloads:
    payloads = _parse(body)
    return _dump(Payloads(payloads=await codec.encode(payloads.payloads)))


@router.post(
    "/decode",
    summary="Decrypt payloads (Temporal codec server)",
    description=(
        "For the Temporal UI and CLI: payloads in, decrypted payloads out; payloads that are not "
        "encrypted come back unchanged. " + roles_note("operator")
    ),
    responses=_RESPONSES,
    dependencies=[Depends(require_session_or_roles("operator"))],
)
async def decode(body: DecodeBody, codec: CodecDep, x_namespace: NamespaceHeader = None) -> JsonPayloads:
    payloads = _parse(body)
    try:
        decoded = await codec.decode(payloads.payloads)
    except CodecError as err:
        # Loud, with the key id and reason (never key material): the UI shows it instead of data.
        raise HTTPException(400, str(err)) from None
    return _dump(Payloads(payloads=decoded))


class CodecCors:
    """CORS for the codec paths only: the UI's origin may call /codec/* with credentials, while every
    other endpoint stays same-origin, as it was."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=True,  # the UI's "include cross-origin credentials" setting
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        handler = self.cors if path == PREFIX or path.startswith(PREFIX + "/") else self.app
        await handler(scope, receive, send)


def install(app: FastAPI, ui_origins: list[str]) -> None:
    """The codec routes and their CORS (for BATON_UI_ORIGIN), in one call from create_app."""
    app.include_router(router)
    app.add_middleware(CodecCors, origins=ui_origins)
