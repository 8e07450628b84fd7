"""The directory file is read live: an edit is seen without a restart, a broken edit is an error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from domain.directory import DirectoryError
from infra.directory_file import DIRECTORY_ENV, read_directory

EXAMPLE = Path(__file__).parent.parent / "examples" / "directory.yaml"


def test_unset_means_an_empty_directory(monkeypatch):
    monkeypatch.delenv(DIRECTORY_ENV, raising=False)
    assert read_directory().people == []


def test_an_edit_is_seen_and_a_broken_one_is_refused(tmp_path, monkeypatch):
    file = tmp_path / "directory.yaml"
    shutil.copy(EXAMPLE, file)
    monkeypatch.setenv(DIRECTORY_ENV, str(file))
    assert read_directory().person("maria").name == "Maria Lopez"
    file.write_text(EXAMPLE.read_text().replace("Maria Lopez", "Maria López-Ortega"), encoding="utf-8")
    # Same second on coarse file systems: the size changed too, so the edit is seen either way.
    os.utime(file, ns=(1, 1))
    assert read_directory().person("maria").name == "Maria López-Ortega"
    file.write_text("people: [", encoding="utf-8")
    with pytest.raises(DirectoryError, match="not YAML"):
        read_directory()
    with pytest.raises(DirectoryError, match="cannot read"):
        read_directory(tmp_path / "missing.yaml")
