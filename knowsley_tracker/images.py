"""Checks that a file is a real PNG or JPEG image, for the logo embedded in board papers.

Only the two formats every renderer embeds (HTML data URI, PDF, Word) are taken,
and only when their structure holds together: a PNG's signature, header chunk
(with its checksum) and end chunk; a JPEG's start marker, a frame header giving
its size, and its end marker. Anything else (SVG, which can carry scripts and
links, a renamed text file, a truncated download) is refused. Pure: reads the
bytes it is given, imports nothing outside the standard library.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import NamedTuple

from knowsley_tracker.errors import ValidationError

MAX_BYTES = 2 * 1024 * 1024  # a logo, not a photograph
MAX_SIDE = 10_000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG frame headers (SOF0-SOF15 less DHT, JPG and DAC), which carry the size.
_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class Image(NamedTuple):
    mime: str  # image/png or image/jpeg
    width: int
    height: int
    data: bytes

    @property
    def extension(self) -> str:
        return "png" if self.mime == "image/png" else "jpeg"


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 33 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    (length,) = struct.unpack(">I", data[8:12])
    if length != 13:
        return None
    chunk = data[12:29]
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(chunk) != crc:
        return None
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 4 or not data.startswith(b"\xff\xd8") or not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers with no length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if at + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if marker == 0xDA:  # image data before any frame header
            return None
        at += 2 + length
    return None


def check_image(data: bytes, name: str) -> Image:
    """The image in ``data``, or ValidationError saying why it is not a PNG or JPEG logo."""
    if len(data) > MAX_BYTES:
        raise ValidationError(f"{name} is {len(data):,} bytes: a logo must be under {MAX_BYTES // (1024 * 1024)} MB.")
    size = _png_size(data)
    mime = "image/png"
    if size is None:
        size, mime = _jpeg_size(data), "image/jpeg"
    if size is None:
        raise ValidationError(f"{name} is not a PNG or JPEG image: a logo must be one of those.")
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValidationError(f"{name} claims to be {width} by {height} pixels: not a usable logo.")
    return Image(mime, width, height, data)


def read_image(path: Path) -> Image:
    """Read and check a logo file (a regular file, PNG or JPEG)."""
    try:
        if not path.is_file():
            raise ValidationError(f"The logo {path} is not a file: give a PNG or JPEG image.")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ValidationError(f"Cannot read the logo {path} ({exc.strerror or exc}).") from None
    return check_image(data, f"The logo {path}")
