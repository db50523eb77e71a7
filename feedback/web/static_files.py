"""Static files whose odd names are a 404, never a 500.

Why: Litestar's local file system lets ``ValueError: embedded null byte``
(``/static/app.css%00.py``), ``NotADirectoryError`` (``/static/app.css/x``) and
``ENAMETOOLONG`` escape as server errors. Any such name cannot be one of our files, so it is
"not found".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.types import PathType


class SafeLocalFileSystem(BaseLocalFileSystem):
    async def info(self, path: PathType, **kwargs: Any) -> Any:
        if "\x00" in str(path):
            raise FileNotFoundError(path)
        try:
            return await super().info(path, **kwargs)
        except FileNotFoundError:
            raise
        except (ValueError, OSError) as exc:
            raise FileNotFoundError(path) from exc


def static_router(path: str, directory: Path, name: str) -> Router:
    """Public static files under ``path`` (no session, no auth, not in the API description)."""
    return create_static_files_router(
        path=path,
        directories=[directory],
        file_system=SafeLocalFileSystem(),
        opt={"public": True},
        include_in_schema=False,
        name=name,
    )
