"""Where hardware comes from: --hardware FILE|ID, RIGFIT_HARDWARE, or the probe; the embedded profiles."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from rigfit.core.errors import ProfileError
from rigfit.core.hardware import hardware_from_json, hardware_to_json
from rigfit.shell.hardware_source import embedded_profiles, hardware_list, load_hardware, load_profile

PROFILE_FILES = sorted(p.name for p in (resources.files("rigfit") / "data" / "profiles").iterdir()
                       if p.name.endswith(".json"))
GIB = 1024**3


@pytest.mark.parametrize("filename", PROFILE_FILES, ids=lambda f: f.removesuffix(".json"))
def test_embedded_profile_loads_and_round_trips(filename: str) -> None:
    hw = embedded_profiles()[filename.removesuffix(".json")]
    assert hardware_from_json(hardware_to_json(hw), source="round-trip") == hw
    assert hw.ram_bytes and hw.cpu and hw.disk, "every profile describes RAM, CPU and a disk"
    for gpu in hw.gpus:
        assert gpu.architecture, f"{filename}: {gpu.name} has no architecture"
        assert gpu.vram_bytes, f"{filename}: {gpu.name} has no VRAM"
        assert (gpu.compute_capability is not None) == (gpu.vendor == "nvidia")


def test_profile_ids_name_their_memory() -> None:
    """`rtx4060-8gb` has 8 GB: the number in an id is the GPU's memory (or RAM for CPU-only and Apple), to within
    1 GiB (an RTX 5060 Ti "16GB" reports 15.9 GiB, an H200 "141GB" 140.4 GiB)."""
    for pid, hw in embedded_profiles().items():
        gb = int(pid.rsplit("-", 1)[1].removesuffix("gb"))
        gpu = hw.primary_gpu
        size = (gpu.vram_bytes if gpu is not None and gpu.vendor != "apple" else hw.ram_bytes) or 0
        assert abs(size / GIB - gb) <= 1, (pid, size / GIB)


def test_profiles_span_the_specifications_tiers() -> None:
    profiles = embedded_profiles()
    assert len(profiles) >= 20
    gpus = [hw.primary_gpu for hw in profiles.values() if hw.primary_gpu is not None]
    tiers = {round(g.vram_bytes / GIB) for g in gpus if g.vram_bytes and g.vendor != "apple"}
    assert {4, 6, 8, 12, 16, 24} <= tiers and max(tiers) >= 32 and tiers & {10, 11, 12}
    archs = {g.architecture for g in gpus}
    assert {"pascal", "turing", "ampere", "ada", "hopper", "blackwell", "rdna2", "rdna3", "rdna4", "alchemist",
            "battlemage", "m1", "m3", "m4"} <= archs
    apple = {round((hw.ram_bytes or 0) / GIB) for hw in profiles.values() if hw.gpus and hw.gpus[0].vendor == "apple"}
    assert 8 in apple and max(apple) >= 64
    assert any(not hw.gpus for hw in profiles.values())


def test_profiles_are_ordered_cpu_first_then_by_vendor_and_memory() -> None:
    ids = list(embedded_profiles())
    assert ids[0].startswith("cpu-") and ids[-1] == "m4-max-128gb"


def test_unknown_id_suggests_near_misses() -> None:
    with pytest.raises(ProfileError, match="did you mean rtx4060-8gb") as info:
        load_profile("rtx4060-8g")
    assert info.value.exit_code == 2


def test_missing_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(str(tmp_path / "mine.json"))


def test_file_with_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"gpus": [\n  {"name": "x",}\n]}')
    with pytest.raises(ProfileError, match=r"p.json: not valid JSON \(line 2"):
        load_profile(str(path))


def test_file_profile_is_read(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"gpus": [{"name": "NVIDIA GeForce RTX 3090", "vram_bytes": 24 * GIB}]}))
    hw = load_profile(str(path))
    assert hw.gpus[0].architecture == "ampere"


def test_first_hardware_option_wins_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGFIT_HARDWARE", "m1-8gb")
    assert load_hardware(["rtx3060-12gb", "m2-16gb"]) == embedded_profiles()["rtx3060-12gb"]
    assert load_hardware(None) == embedded_profiles()["m1-8gb"]
    assert hardware_list(["rtx3060-12gb", "m2-16gb"]) == [embedded_profiles()["rtx3060-12gb"],
                                                          embedded_profiles()["m2-16gb"]]


def test_without_profile_the_machine_is_probed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RIGFIT_HARDWARE", raising=False)
    hw = load_hardware(None, disk_path=str(tmp_path))
    assert hw.disk is not None and hw.disk.path == str(tmp_path)
