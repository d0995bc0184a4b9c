"""Profile photos: check an upload really is an image we accept, then make a small square JPEG.

Decoding untrusted images is done by Pillow with a pixel cap (against decompression bombs) in a
worker thread, so a large upload does not stall the event loop.
"""

from __future__ import annotations

import asyncio
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from sidecar.domain.errors import Invalid

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SIZE = 256
MAX_PIXELS = 40_000_000


def normalise(data: bytes) -> bytes:
    """A 256 px square JPEG of the upload; Invalid("photo", …) for anything else."""
    try:
        with Image.open(BytesIO(data)) as probe:
            kind = probe.format
            if kind not in ACCEPTED:
                raise Invalid("photo", "must be a JPEG, PNG or WebP image")
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid("photo", "is too large in pixels; at most 40 megapixels")
            probe.verify()
        with Image.open(BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            square = ImageOps.fit(upright.convert("RGB"), (SIZE, SIZE), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise Invalid("photo", "is not a readable image") from exc
    out = BytesIO()
    square.save(out, format="JPEG", quality=85, optimize=True)  # no metadata: EXIF is dropped
    return out.getvalue()


async def normalise_in_thread(data: bytes) -> bytes:
    return await asyncio.to_thread(normalise, data)
