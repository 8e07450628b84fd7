"""The payload encryption codec, its keyring from the environment, and the codec server endpoints."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from api.settings import ApiSettings
from infra.baton_settings import BatonSettings
from infra.payload_codec import (
    ENCODING,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    PayloadAuthenticationError,
    UnknownKeyError,
    build_codec,
)
from infra.temporal_client import data_converter
from tests.api_rig import api_keys_setting, auth

K1, K2, K3 = os.urandom(32), os.urandom(32), os.urandom(32)
SECRET = "Priya Raman <priya@acme.example>: owns the budget"


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def plain(text: str = SECRET) -> Payload:
    [payload] = pydantic_data_converter.payload_converter.to_payloads([{"note": text}])
    return payload


async def test_round_trip_keeps_the_original_payload_and_hides_its_bytes():
    codec = EncryptionCodec({"k1": K1})
    original = [plain(), plain("second"), Payload(metadata={"encoding": b"binary/null"})]
    encoded = await codec.encode(original)
    assert len(encoded) == 3
    for payload in encoded:
        assert payload.metadata["encoding"] == ENCODING
        assert payload.metadata[KEY_ID] == b"k1"
        assert b"Priya" not in payload.SerializeToString()
    assert await codec.decode(encoded) == original
    # A fresh nonce per payload: the same value never encrypts to the same bytes twice.
    again = await codec.encode([original[0]])
    assert again[0].data != encoded[0].data


async def test_rotation_keeps_old_payloads_readable_and_encodes_with_the_new_key():
    old = await EncryptionCodec({"k1": K1}).encode([plain()])
    rotated = EncryptionCodec({"k1": K1, "k2": K2}, active_key_id="k2")
    new = await rotated.encode([plain("after rotation")])
    assert new[0].metadata[KEY_ID] == b"k2"
    assert await rotated.decode(old) == [plain()]
    assert await rotated.decode(new) == [plain("after rotation")]


async def test_unknown_key_id_fails_loudly():
    encoded = await EncryptionCodec({"k1": K1}).encode([plain()])
    with pytest.raises(UnknownKeyError, match=r"codec key 'k1'.*does not hold \(it holds: k2\)"):
        await EncryptionCodec({"k2": K2}).decode(encoded)


async def test_wrong_key_under_the_same_id_fails_authentication():
    encoded = await EncryptionCodec({"k1": K1}).encode([plain()])
    with pytest.raises(PayloadAuthenticationError, match="failed authentication"):
        await EncryptionCodec({"k1": K3}).decode(encoded)


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag", "truncated"])
async def test_tampered_payload_fails_authentication(where):
    codec = EncryptionCodec({"k1": K1})
    [payload] = await codec.encode([plain()])
    data = bytearray(payload.data)
    if where == "truncated":
        data = data[:20]
    else:
        data[{"nonce": 0, "ciphertext": 14, "tag": -1}[where]] ^= 0x01
    payload.data = bytes(data)
    with pytest.raises(PayloadAuthenticationError):
        await codec.decode([payload])


async def test_encrypted_payload_without_key_id_fails():
    [payload] = await EncryptionCodec({"k1": K1}).encode([plain()])
    del payload.metadata[KEY_ID]
    with pytest.raises(CodecError, match="no encryption-key-id"):
        await EncryptionCodec({"k1": K1}).decode([payload])


async def test_plain_payloads_pass_through_decode():
    """History written before encryption was switched on stays readable."""
    payloads = [plain(), Payload(metadata={"encoding": b"json/protobuf"}, data=b"{}")]
    assert await EncryptionCodec({"k1": K1}).decode(payloads) == payloads


def test_repr_never_shows_key_material():
    text = repr(EncryptionCodec({"k1": K1, "k2": K2}, "k2"))
    assert "k1" in text and "k2" in text
    assert b64(K1) not in text and repr(K1) not in text


# ---- keys from the environment -------------------------------------------------------------------


def codec_from_env(variables: dict[str, str]) -> EncryptionCodec | None:
    """The codec a process whose environment holds `variables` gets: the settings read exactly these
    names (BATON_CODEC_KEYS is the field codec_keys, and so on)."""
    return BatonSettings(**{name.removeprefix("BATON_").lower(): value for name, value in variables.items()}).codec


def test_no_keys_means_no_codec_and_the_plain_converter():
    assert codec_from_env({}) is None and build_codec() is None
    assert data_converter() is pydantic_data_converter


def test_keys_parse_with_the_first_active_unless_named():
    env = {"BATON_CODEC_KEYS": f" k1:{b64(K1)} , k2:{base64.urlsafe_b64encode(K2).decode()} "}
    codec = codec_from_env(env)
    assert codec.key_ids == ("k1", "k2") and codec.active_key_id == "k1"
    assert codec_from_env({**env, "BATON_CODEC_ACTIVE_KEY": "k2"}).active_key_id == "k2"
    converter = data_converter(codec_from_env(env))
    assert isinstance(converter.payload_codec, EncryptionCodec)
    assert converter.payload_converter_class is pydantic_data_converter.payload_converter_class


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"k1:{b64(K1)},k2:not*base64", r"BATON_CODEC_KEYS entry 2 \('k2'\): the key is not valid base64"),
        (f"k1:{b64(K1)},short:{b64(os.urandom(16))}", r"entry 2 \('short'\): the key must decode to 32 bytes .*not 16"),
        (f"k1{b64(K1)}", r"entry 1: expected <id>:<base64 32-byte key>"),
        (f"k1:{b64(K1)},k1:{b64(K2)}", r"entry 2 \('k1'\): the id appears twice"),
    ],
)
def test_bad_entries_are_named_without_their_keys(value, message):
    with pytest.raises(ValueError, match=message) as err:
        codec_from_env({"BATON_CODEC_KEYS": value})
    assert b64(K1) not in str(err.value)


def test_active_key_must_be_configured():
    with pytest.raises(ValueError, match="BATON_CODEC_ACTIVE_KEY='k9' is not among"):
        codec_from_env({"BATON_CODEC_KEYS": f"k1:{b64(K1)}", "BATON_CODEC_ACTIVE_KEY": "k9"})
    with pytest.raises(ValueError, match="no codec keys are"):
        codec_from_env({"BATON_CODEC_ACTIVE_KEY": "k1"})


def test_key_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"# retired in March, kept for old histories\nk1:{b64(K1)}\n\nk2:{b64(K2)}\n")
    codec = codec_from_env({"BATON_CODEC_KEY_FILE": str(path), "BATON_CODEC_ACTIVE_KEY": "k2"})
    assert codec.key_ids == ("k1", "k2") and codec.active_key_id == "k2"

    path.write_text(f"k1:{b64(K1)}\nk2:{b64(os.urandom(31))}\n")
    with pytest.raises(ValueError, match=r"BATON_CODEC_KEY_FILE line 2 \('k2'\): the key must decode to 32 bytes"):
        codec_from_env({"BATON_CODEC_KEY_FILE": str(path)})
    with pytest.raises(ValueError, match="cannot read"):
        codec_from_env({"BATON_CODEC_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(ValueError, match="not both"):
        codec_from_env({"BATON_CODEC_KEY_FILE": str(path), "BATON_CODEC_KEYS": f"k1:{b64(K1)}"})


# ---- the codec server ----------------------------------------------------------------------------

UI = "http://localhost:8233"


def proto_json(payload: Payload) -> dict:
    return {"metadata": {k: b64(v) for k, v in payload.metadata.items()}, "data": b64(payload.data)}


@pytest_asyncio.fixture
async def codec_api(tmp_path, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("BATON_CODEC_KEYS", f"k1:{b64(K1)},k2:{b64(K2)}")
    monkeypatch.setenv("BATON_CODEC_ACTIVE_KEY", "k2")
    monkeypatch.delenv("BATON_CODEC_KEY_FILE", raising=False)
    monkeypatch.delenv("BATON_UI_ORIGIN", raising=False)
    async with _api(tmp_path) as http:
        yield http


class _api:
    """The app in process; the client is lazy and never used by the codec routes."""

    def __init__(self, tmp_path) -> None:
        self.settings = ApiSettings(api_keys=api_keys_setting(), database_url=f"sqlite:///{tmp_path}/api.db")

    async def __aenter__(self) -> httpx.AsyncClient:
        client = await Client.connect("127.0.0.1:1", lazy=True)
        self.app = create_app(settings=self.settings, client=client)
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")
        return self.http

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()
        await self.lifespan.__aexit__(*exc)


async def test_codec_server_encode_then_decode_returns_the_original(codec_api):
    headers = {**auth("operator"), "X-Namespace": "default"}
    body = {"payloads": [proto_json(plain()), proto_json(plain("two"))]}
    encoded = await codec_api.post("/codec/encode", json=body, headers=headers)
    assert encoded.status_code == 200, encoded.text
    for payload in encoded.json()["payloads"]:
        assert base64.b64decode(payload["metadata"]["encoding"]) == ENCODING
        assert base64.b64decode(payload["metadata"][KEY_ID]) == b"k2"
        assert b"Priya" not in base64.b64decode(payload["data"])
    decoded = await codec_api.post("/codec/decode", json=encoded.json(), headers=headers)
    assert decoded.status_code == 200, decoded.text
    assert decoded.json() == body


async def test_codec_server_decodes_history_from_the_old_key_and_plain_payloads(codec_api):
    old = await EncryptionCodec({"k1": K1}).encode([plain()])
    body = {"payloads": [proto_json(old[0]), proto_json(plain("never encrypted"))]}
    decoded = await codec_api.post("/codec/decode", json=body, headers=auth("operator"))
    assert decoded.json() == {"payloads": [proto_json(plain()), proto_json(plain("never encrypted"))]}


async def test_codec_server_refuses_undecryptable_payloads_loudly(codec_api):
    foreign = await EncryptionCodec({"k9": K3}).encode([plain()])
    answer = await codec_api.post(
        "/codec/decode", json={"payloads": [proto_json(foreign[0])]}, headers=auth("operator")
    )
    assert answer.status_code == 400 and "'k9'" in answer.json()["detail"]
    answer = await codec_api.post(
        "/codec/decode", json={"payloads": [{"data": "@@not base64@@"}]}, headers=auth("operator")
    )
    assert answer.status_code == 400


async def test_codec_server_needs_an_operator_key(codec_api):
    body = {"payloads": [proto_json(plain())]}
    for path in ("/codec/encode", "/codec/decode"):
        assert (await codec_api.post(path, json=body)).status_code == 401
        assert (await codec_api.post(path, json=body, headers={"Authorization": "Bearer nope"})).status_code == 401
        for role in ("crm", "ae", "cs_lead"):
            assert (await codec_api.post(path, json=body, headers=auth(role))).status_code == 403


async def test_cors_preflight_from_the_ui_is_allowed_on_codec_paths_only(codec_api):
    preflight = {
        "Origin": UI, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }  # fmt: skip
    answer = await codec_api.options("/codec/decode", headers=preflight)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= {h.strip() for h in allowed.split(",")}

    # The actual request carries the header too, so the browser hands the UI the answer.
    body = {"payloads": [proto_json(plain())]}
    answer = await codec_api.post("/codec/decode", json=body, headers={**auth("operator"), "Origin": UI})
    assert answer.headers["access-control-allow-origin"] == UI

    other = await codec_api.options("/codec/decode", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    # The rest of the API stays same-origin.
    rest = await codec_api.options("/v1/events", headers=preflight)
    assert "access-control-allow-origin" not in rest.headers


async def test_codec_server_without_keys_says_not_configured(tmp_path, monkeypatch):
    for name in ("BATON_CODEC_KEYS", "BATON_CODEC_KEY_FILE", "BATON_CODEC_ACTIVE_KEY"):
        monkeypatch.delenv(name, raising=False)
    async with _api(tmp_path) as http:
        answer = await http.post("/codec/decode", json={"payloads": []}, headers=auth("operator"))
    assert answer.status_code == 404 and "codec not configured" in answer.json()["detail"]


async def test_a_signed_in_session_reaches_the_codec_with_a_cookie(monkeypatch):
    """The Temporal UI sends cookies, not bearer keys: an operator signs in once in the browser."""
    import hashlib

    import httpx
    from temporalio.client import Client

    from api.app import create_app
    from api.session import COOKIE
    from api.settings import ApiSettings

    operator, analyst = "op-key-123", "ae-key-456"
    keys = ",".join(
        f"{hashlib.sha256(k.encode()).hexdigest()}:{r}" for k, r in ((operator, "operator"), (analyst, "ae"))
    )
    key = base64.b64encode(bytes(range(32))).decode()
    monkeypatch.setenv("BATON_CODEC_KEYS", f"k1:{key}")
    client = await Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(settings=ApiSettings(api_keys=keys), client=client)
    body = {
        "payloads": [
            {
                "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                "data": base64.b64encode(b'"x"').decode(),
            }
        ]
    }
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.post("/codec/encode", json=body)).status_code == 401
            assert (await http.post("/auth/session", data={"key": "nope"})).status_code == 401
            denied = await http.post("/auth/session", data={"key": analyst})
            assert denied.status_code == 200
            assert (await http.post("/codec/encode", json=body)).status_code == 403
            http.cookies.clear()
            signed_in = await http.post("/auth/session", data={"key": operator})
            assert signed_in.status_code == 200 and COOKIE in signed_in.cookies
            assert "op-key-123" not in signed_in.headers["set-cookie"]
            encoded = await http.post("/codec/encode", json=body)
            assert encoded.status_code == 200
            http.cookies.set(COOKIE, signed_in.cookies[COOKIE][:-2] + "00")
            assert (await http.post("/codec/encode", json=body)).status_code == 401
