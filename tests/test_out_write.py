"""Report files are written all or none: a listing made as it is written that fails midway
leaves the files that were there before, and no temporary file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.cli import out_guard
from checker.errors import MixiteError
from checker.report.outputs import Streamed


def _refused_midway() -> Iterator[str]:
    yield "\ufeffPseudonyme;Logement\r\n"
    yield "a65893b9b8;8012000537\r\n"
    raise MixiteError("le verdict d'un enregistrement diffère")


def test_a_listing_refused_midway_leaves_the_earlier_files(tmp_path: Path) -> None:
    listing = tmp_path / "enregistrements.csv"
    report = tmp_path / "rapport.json"
    listing.write_text("ancienne liste complète\n", encoding="utf-8")
    with pytest.raises(MixiteError, match="diffère"):
        out_guard.write_files({report: "{}", listing: Streamed(_refused_midway)})
    assert listing.read_text(encoding="utf-8") == "ancienne liste complète\n"
    assert not report.exists()  # all or none: not the report without its listing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["enregistrements.csv"]


def test_files_written_whole_replace_the_earlier_ones(tmp_path: Path) -> None:
    listing = tmp_path / "sous-dossier" / "enregistrements.csv"
    listing.parent.mkdir()
    listing.write_text("ancienne\n", encoding="utf-8")
    pieces = ["\ufeffa;b\r\n", "1;2\r\n"]
    out_guard.write_files({listing: Streamed(lambda: iter(pieces)), tmp_path / "r.bin": b"\x00"})
    assert listing.read_bytes() == "".join(pieces).encode("utf-8")
    assert (tmp_path / "r.bin").read_bytes() == b"\x00"
    assert sorted(p.name for p in listing.parent.iterdir()) == ["enregistrements.csv"]


def test_a_device_or_a_link_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "vrai.csv"
    target.write_text("", encoding="utf-8")
    link = tmp_path / "lien.csv"
    link.symlink_to(target)
    out_guard.write_files({link: "a;b\r\n"})
    assert link.is_symlink() and target.read_bytes() == b"a;b\r\n"
    if Path("/dev/null").exists():
        out_guard.write_files({Path("/dev/null"): Streamed(lambda: iter(["x"]))})
        assert Path("/dev/null").is_char_device()
