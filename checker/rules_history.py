"""A rules folder as it was at a git revision, extracted into a temporary folder."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from checker.errors import MixiteError


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False)
    except OSError:
        raise MixiteError(
            "git est introuvable : --depuis lit l'historique git des règles."
        ) from None


@contextmanager
def rules_at_revision(paths: Sequence[Path], revision: str) -> Iterator[list[Path]]:
    """Each of `paths` (folders or files of rules) as it was at `revision`, in a temporary
    folder that lives as long as the context."""
    with tempfile.TemporaryDirectory(prefix="mixite-regles-") as scratch:
        extracted: list[Path] = []
        for index, path in enumerate(paths):
            path = path.resolve()
            folder = path if path.is_dir() else path.parent
            top = _git(folder, "rev-parse", "--show-toplevel")
            if top.returncode != 0:
                raise MixiteError(f"{path} n'est pas dans un dépôt git : --depuis est impossible.",
                                  "Comparez deux dates avec --du et --au.")  # fmt: skip
            root = Path(top.stdout.decode().strip())
            if _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode:
                raise MixiteError(f"Révision git inconnue : « {revision} ».",
                                  "Exemples : HEAD~1, main, un identifiant de commit, une étiquette.")  # fmt: skip
            relative = path.relative_to(root).as_posix()
            listed = _git(root, "ls-tree", "-r", "--name-only", revision, "--", relative)
            names = [name for name in listed.stdout.decode().splitlines() if name]
            if not names:
                raise MixiteError(f"{relative} n'existe pas à la révision {revision}.")
            target = Path(scratch) / str(index)
            for name in names:
                content = _git(root, "show", f"{revision}:{name}").stdout
                destination = target / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(content)
            extracted.append(target / relative)
        yield extracted
