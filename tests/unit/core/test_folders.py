"""File and folder names from catalogs and plans cannot escape the models folder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigfit.core.folders import canonical_folder, filename_problem, folder_problem


@pytest.mark.parametrize(
    "name",
    ["flux1-dev-Q8_0.gguf", "ae.safetensors", "t5xxl_fp8_e4m3fn_scaled.safetensors", "4x-AnimeSharp.pth"],
)
def test_real_file_names_are_accepted(name: str) -> None:
    assert filename_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("..", id="dotdot"),
        pytest.param("../../etc/passwd", id="traversal"),
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("a\\b.safetensors", id="backslash"),
        pytest.param("C:evil.bin", id="drive-colon"),
        pytest.param(".hidden", id="hidden"),
        pytest.param("nul.txt", id="windows-device"),
        pytest.param("a\x00b", id="nul-byte"),
        pytest.param("trailing.", id="trailing-dot"),
    ],
)
def test_hostile_file_names_are_refused(name: str) -> None:
    assert filename_problem(name) is not None


@pytest.mark.parametrize("folder", ["checkpoints", "ultralytics/bbox", "insightface/models/antelopev2"])
def test_nested_folders_are_accepted(folder: str) -> None:
    assert folder_problem(folder) is None


@pytest.mark.parametrize("folder", ["", "/abs", "C:/x", "a/../b", "a//b", "./a", "a/..", "\\\\server\\share"])
def test_escaping_folders_are_refused(folder: str) -> None:
    assert folder_problem(folder) is not None


def test_legacy_folder_keys_map_to_current_ones() -> None:
    assert canonical_folder("unet") == "diffusion_models"
    assert canonical_folder("clip/sub") == "text_encoders/sub"
    assert canonical_folder("vae") == "vae"


@given(st.text(max_size=40))
def test_an_accepted_name_never_contains_a_separator_or_dotdot(name: str) -> None:
    if filename_problem(name) is None:
        assert "/" not in name and "\\" not in name and name not in {".", ".."}
