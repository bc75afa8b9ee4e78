"""Image bytes on local disk: `<TIDINGS_IMAGE_DIR>/<account id>/<image id>.<ext>`.

Written to a temporary name and renamed into place, so a reader never sees half a file; written
before the row commits, so a committed row always has its file (a rolled-back upload leaves an
unreferenced file, which nothing serves). Several processes share the directory when they
share a disk; beyond one machine, point it at a shared mount.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif"}
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif"}
_SAFE = re.compile(r"^[A-Za-z0-9]{1,32}$")


def path_for(root: str, account_id: str, image_id: str, image_format: str) -> Path:
    if not (_SAFE.match(account_id) and _SAFE.match(image_id)):
        raise ValueError("unsafe image path")
    return Path(root) / account_id / f"{image_id}.{EXTENSIONS[image_format]}"


def write(root: str, account_id: str, image_id: str, image_format: str, data: bytes) -> Path:
    target = path_for(root, account_id, image_id, image_format)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
