"""image_data_url: PNG/JPEG bytes or files to data URLs, with clear refusals."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from rtsdk.client.media import image_data_url, image_type
from rtsdk.exceptions import ConfigurationError

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
JPEG = b"\xff\xd8\xff\xe0" + bytes(32)


def test_png_and_jpeg_bytes_and_files(tmp_path: Path) -> None:
    assert image_type(PNG) == "image/png" and image_type(JPEG) == "image/jpeg"
    url = image_data_url(PNG)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == PNG
    path = tmp_path / "photo.bin"  # the name says nothing; the bytes do
    path.write_bytes(JPEG)
    assert image_data_url(path).startswith("data:image/jpeg;base64,")
    assert image_data_url(str(path)) == image_data_url(bytearray(JPEG))


def test_refusals_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        image_data_url(b"")
    with pytest.raises(
        ConfigurationError, match=r"not a PNG or JPEG image \(it starts with b'GIF89a"
    ):
        image_data_url(b"GIF89a" + bytes(10))
    with pytest.raises(ConfigurationError, match="larger than the 40-byte limit"):
        image_data_url(PNG + bytes(8), max_bytes=40)
    with pytest.raises(ConfigurationError, match="cannot read the image file"):
        image_data_url(tmp_path / "missing.png")
    with pytest.raises(ConfigurationError, match="got int"):
        image_data_url(5)  # type: ignore[arg-type]
