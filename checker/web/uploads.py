"""Files sent by a browser or a script, written to a scratch folder; zip bundles unpacked
safely (no path outside the folder, bounded size)."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from starlette.datastructures import UploadFile

from checker.errors import MixiteError

MAX_UNPACKED = 500 * 1024 * 1024


def _safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    if not base or base in (".", ".."):
        raise MixiteError(f"Nom de fichier refusé : « {name} ».")
    return base


async def save(files: Sequence[UploadFile], folder: Path) -> list[Path]:
    """Write the uploaded files into `folder`; a zip is unpacked there. Returns the files."""
    saved: list[Path] = []
    for upload in files:
        if not upload.filename:
            continue
        target = folder / _safe_name(upload.filename)
        target.write_bytes(await upload.read())
        if target.suffix.lower() == ".zip":
            saved.extend(unpack(target, folder / target.stem))
            target.unlink()
        else:
            saved.append(target)
    if not saved:
        raise MixiteError("Aucun fichier reçu.", "Choisissez les fichiers du lot, ou un .zip.")
    return saved


def unpack(archive: Path, folder: Path) -> list[Path]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_UNPACKED:
                raise MixiteError(
                    f"{archive.name} : archive trop volumineuse une fois décompressée."
                )
            folder.mkdir(parents=True, exist_ok=True)
            written = []
            for member in members:
                name = _safe_name(member.filename)
                if name.startswith((".", "~$")) or "__MACOSX" in member.filename:
                    continue
                target = folder / name
                if target.exists():
                    raise MixiteError(f"{archive.name} : deux fichiers nommés « {name} ».")
                target.write_bytes(bundle.read(member))
                written.append(target)
    except zipfile.BadZipFile:
        raise MixiteError(f"{archive.name} : archive zip illisible.") from None
    if not written:
        raise MixiteError(f"{archive.name} : archive vide.")
    return written
