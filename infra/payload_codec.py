"""Payload encryption: what Baton hands Temporal (deal documents, contacts, notes, summaries) is
stored as AES-256-GCM ciphertext, so the Temporal server and its database never hold customer data.

Format of an encoded payload (the one Temporal's samples use, so their tooling can read it too):
  metadata  encoding = binary/encrypted, encryption-key-id = <id of the key used>
  data      12-byte random nonce + AES-GCM ciphertext (with its 16-byte tag) of the original
            Payload proto, metadata included, so the original encoding survives the round trip.

Several keys live in one keyring; one is active for encoding, and decoding picks the key named by
the payload, so rotating to a new active key keeps every older history readable as long as the old
key stays in the ring.

Keys come from each process's settings (infra.baton_settings): BATON_CODEC_KEYS (`<id>:<base64 key>`,
comma-separated) or BATON_CODEC_KEY_FILE (a file of such entries, one a line, `#` comments allowed).
The first key is active unless BATON_CODEC_ACTIVE_KEY names another. Key material is never put in an error message,
a log line or a repr: only key ids are.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32

KEYS_VAR = "BATON_CODEC_KEYS"
KEY_FILE_VAR = "BATON_CODEC_KEY_FILE"
ACTIVE_VAR = "BATON_CODEC_ACTIVE_KEY"

# Ids travel in plain metadata and in error messages; a narrow alphabet keeps them from carrying
# anything else (and keeps a pasted key from being mistaken for an id).
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class CodecError(Exception):
    """A payload could not be decrypted. Never swallowed: returning ciphertext or garbage as if it
    were the value would corrupt a workflow's state or show an operator wrong data."""


class UnknownKeyError(CodecError):
    """The payload names a key id this keyring does not hold (a key removed too early, or the wrong
    keyring for this namespace)."""


class PayloadAuthenticationError(CodecError):
    """AES-GCM rejected the payload: the key under that id is not the one it was encrypted with, or
    the stored bytes were altered."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Mapping[str, bytes], active_key_id: str | None = None) -> None:
        if not keys:
            raise ValueError("an encryption codec needs at least one key")
        for key_id, key in keys.items():
            if not _KEY_ID.match(key_id):
                raise ValueError(f"codec key id {key_id!r}: use 1-64 of A-Z a-z 0-9 . _ -")
            if len(key) != KEY_BYTES:
                raise ValueError(f"codec key {key_id!r}: must be {KEY_BYTES} bytes (AES-256), got {len(key)}")
        active = active_key_id if active_key_id is not None else next(iter(keys))
        if active not in keys:
            raise ValueError(f"active codec key {active!r} is not in the keyring ({', '.join(keys)})")
        self._ciphers = {key_id: AESGCM(bytes(key)) for key_id, key in keys.items()}
        self._active = active

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def __repr__(self) -> str:
        # Ids only: a codec that ends up in a log or a traceback must not leak its keys.
        return f"EncryptionCodec(active={self._active!r}, keys={list(self._ciphers)!r})"

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._active]
        key_id = self._active.encode("ascii")
        encoded = []
        for payload in payloads:
            # A fresh random nonce per payload: GCM's security rests on never reusing one under a key.
            nonce = os.urandom(NONCE_BYTES)
            ciphertext = cipher.encrypt(nonce, payload.SerializeToString(), None)
            encoded.append(Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + ciphertext))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(payload) for payload in payloads]

    def decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            # Written before encryption was switched on (or never encrypted): readable as it is.
            return payload
        raw_id = payload.metadata.get(KEY_ID)
        if raw_id is None:
            raise CodecError(f"an encrypted payload has no {KEY_ID} metadata; it cannot be decrypted")
        key_id = raw_id.decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"payload encrypted with codec key {key_id!r}, which this keyring does not hold "
                f"(it holds: {', '.join(self._ciphers)}); keep retired keys in {KEYS_VAR} after a rotation"
            )
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadAuthenticationError(f"payload encrypted with codec key {key_id!r} is truncated")
        nonce, ciphertext = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plaintext = cipher.decrypt(nonce, ciphertext, None)
        except InvalidTag:
            raise PayloadAuthenticationError(
                f"payload encrypted with codec key {key_id!r} failed authentication: "
                "the key configured under that id is not the one used, or the data was altered"
            ) from None
        return Payload.FromString(plaintext)


def parse_keys(text: str, source: str = KEYS_VAR, separator: str = ",", unit: str = "entry") -> dict[str, bytes]:
    """`<id>:<base64 32-byte key>` entries. Errors name the entry by position and id, never its key."""
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(part.strip() for part in text.split(separator)):
        if not entry or entry.startswith("#"):
            continue
        where = f"{source} {unit} {position + 1}"
        key_id, sep, encoded = (part.strip() for part in entry.partition(":"))
        if not sep or not _KEY_ID.match(key_id):
            raise ValueError(f"{where}: expected <id>:<base64 32-byte key>, the id being 1-64 of A-Z a-z 0-9 . _ -")
        where = f"{where} ({key_id!r})"
        if key_id in keys:
            raise ValueError(f"{where}: the id appears twice")
        try:
            # Either base64 alphabet: `openssl rand -base64 32` and Python's urlsafe output both work.
            key = base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{where}: the key is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"{where}: the key must decode to {KEY_BYTES} bytes (AES-256), not {len(key)}")
        keys[key_id] = key
    return keys


def build_codec(keys_text: str = "", key_file: str | None = None, active: str | None = None) -> EncryptionCodec | None:
    """The codec these settings configure, or None when no keys are set (payloads stay plain).

    Misconfiguration raises ValueError rather than quietly running unencrypted."""
    inline = keys_text.strip()
    path = (key_file or "").strip()
    active = (active or "").strip() or None
    if inline and path:
        raise ValueError(f"set {KEYS_VAR} or {KEY_FILE_VAR}, not both")
    if path:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as err:
            raise ValueError(f"{KEY_FILE_VAR}: cannot read {path}: {err.strerror}") from None
        keys = parse_keys(text, source=KEY_FILE_VAR, separator="\n", unit="line")
        if not keys:
            raise ValueError(f"{KEY_FILE_VAR}: {path} holds no keys")
    else:
        keys = parse_keys(inline)
    if not keys:
        if active:
            raise ValueError(f"{ACTIVE_VAR} is set but no codec keys are ({KEYS_VAR} or {KEY_FILE_VAR})")
        return None
    if active is not None and active not in keys:
        raise ValueError(f"{ACTIVE_VAR}={active!r} is not among the configured codec keys ({', '.join(keys)})")
    return EncryptionCodec(keys, active)
