"""An export sealed for transport and backup: AES-256-GCM under a key derived from a
passphrase (scrypt), readable by nothing but this module and the passphrase.

The file is text: a header line (JSON: format, key derivation and its salt), then one
line per chunk of the plain export, each the base64 of a random 96-bit nonce and the
chunk's ciphertext. Each chunk is bound to the header, to its place in the file and to
whether it is the last, so chunks cannot be swapped, dropped, or the file cut short
unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "timebank_encrypted_export"
CHUNK_BYTES = 1024 * 1024
MIN_PASSPHRASE = 12
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_MAX_HEADER = 4096


class TransportError(ValueError):
    """An encrypted export that cannot be opened: says why, in one line."""


def check_passphrase(passphrase: str) -> str:
    if len(passphrase) < MIN_PASSPHRASE:
        raise TransportError(f"the passphrase must be at least {MIN_PASSPHRASE} characters")
    return passphrase


def is_encrypted(path: os.PathLike[str] | str) -> bool:
    """Whether a file is an encrypted export (by its header line)."""
    with open(path, "rb") as stream:
        return _header_fields(stream.readline(_MAX_HEADER)) is not None


def _header_fields(line: bytes) -> dict[str, Any] | None:
    try:
        fields = json.loads(line)
    except ValueError:
        return None
    return fields if isinstance(fields, dict) and fields.get(FORMAT) == 1 else None


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">Q?", index, last)


class EncryptingStream(io.RawIOBase):
    """Bytes written here reach `sink` encrypted, a chunk a line; `close()` writes the
    last chunk (possibly empty), without which a reader knows the file is cut short."""

    def __init__(self, sink: BinaryIO, passphrase: str) -> None:
        super().__init__()
        check_passphrase(passphrase)
        salt = os.urandom(16)
        header = {FORMAT: 1, "cipher": "AES-256-GCM", "kdf": "scrypt", "salt": _b64(salt)}
        header.update(_SCRYPT)
        self._header = json.dumps(header, sort_keys=True).encode("utf-8")
        self._aes = AESGCM(_key(passphrase, salt, **_SCRYPT))
        self._sink = sink
        self._buffer = bytearray()
        self._index = 0
        sink.write(self._header + b"\n")

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += bytes(data)
        while len(self._buffer) > CHUNK_BYTES:
            self._chunk(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._chunk(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()

    def _chunk(self, plain: bytes, *, last: bool) -> None:
        nonce = os.urandom(12)
        sealed = self._aes.encrypt(nonce, plain, _aad(self._header, self._index, last))
        self._sink.write(base64.b64encode(nonce + sealed) + b"\n")
        self._index += 1


def decrypted(stream: BinaryIO, passphrase: str) -> Iterator[bytes]:
    """The plain export's bytes, a chunk at a time; raises `TransportError` saying what
    is wrong (not this format, a wrong passphrase, a damaged or cut short file)."""
    header = stream.readline(_MAX_HEADER).rstrip(b"\n")
    fields = _header_fields(header)
    try:
        if fields is None:
            raise ValueError(FORMAT)
        salt = base64.b64decode(fields["salt"], validate=True)
        n, r, p = (int(fields[name]) for name in ("n", "r", "p"))
        if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("scrypt")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise TransportError("not an encrypted export (its first line is not its header)") from None
    aes = AESGCM(_key(passphrase, salt, n, r, p))
    index = 0
    line = stream.readline(2 * CHUNK_BYTES)
    while line:
        following = stream.readline(2 * CHUNK_BYTES)
        last = not following
        try:
            raw = base64.b64decode(line.rstrip(b"\n"), validate=True)
            yield aes.decrypt(raw[:12], raw[12:], _aad(header, index, last))
        except (binascii.Error, InvalidTag):
            if index == 0:
                raise TransportError(
                    "cannot decrypt: a wrong passphrase, or the file is damaged"
                ) from None
            raise TransportError(
                f"chunk {index + 1} does not decrypt: the file is damaged or cut short"
            ) from None
        index += 1
        line = following
    if index == 0:
        raise TransportError("the encrypted export holds nothing: it is cut short")


def plain_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The lines of the decrypted export, without their line ends."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        *lines, rest = rest.split(b"\n")
        yield from lines
    if rest:
        yield rest


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
