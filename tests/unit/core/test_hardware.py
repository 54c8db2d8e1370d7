"""The hardware values and their wire format: strict on what is given, deriving what is left out."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.core.errors import ProfileError
from rigfit.core.gpu_names import apple_gpu_share
from rigfit.core.hardware import (
    SCHEMA,
    Cpu,
    Disk,
    Gpu,
    Hardware,
    hardware_from_json,
    hardware_to_json,
)

CONTRACT_EXAMPLE: dict[str, Any] = {
    "schema": "rigfit.hardware/1",
    "os": "linux", "arch": "x86_64",
    "cpu": {"model": "AMD Ryzen 7 7700", "cores": 8},
    "ram_bytes": 34359738368,
    "gpus": [{
        "vendor": "nvidia", "name": "NVIDIA GeForce RTX 4060", "vram_bytes": 8585740288,
        "compute_capability": "8.9", "architecture": "ada", "driver_version": "560.94",
        "cuda_driver_version": "12.6", "unified_memory": False,
    }],
    "disk": {"path": "/home/me/ComfyUI", "free_bytes": 412316860416, "rotational": False},
}


def _gpu(name: str, vram: int | None, vendor: str = "nvidia", index: int = 0) -> Gpu:
    return Gpu(vendor, name, vram, None, None, None, None, False, index=index)


def test_contract_example_reads_and_writes_back_the_same_keys() -> None:
    hw = hardware_from_json(CONTRACT_EXAMPLE, source="contract")
    doc = hardware_to_json(hw)
    for key, value in CONTRACT_EXAMPLE.items():
        if key != "gpus":
            assert doc[key] == value, key
    for key, value in CONTRACT_EXAMPLE["gpus"][0].items():
        assert doc["gpus"][0][key] == value, key
    assert doc["schema"] == SCHEMA


def test_round_trip_is_identity_on_values() -> None:
    hw = Hardware(os="windows", arch="x86_64", cpu=Cpu("Intel", 6), ram_bytes=16 * 2**30,
                  gpus=(Gpu("amd", "AMD Radeon RX 7900 XTX", 25753026560, None, "rdna3", "24.1", None, False,
                            free_vram_bytes=1, index=1, pci_bus_id="0000:03:00.0", gfx_target="gfx1100"),),
                  disk=Disk("C:\\ComfyUI", 10, None), warnings=("x timed out",))
    assert hardware_from_json(hardware_to_json(hw), source="t") == hw


def test_minimal_profile_derives_architecture_and_compute_capability_from_the_name() -> None:
    hw = hardware_from_json({"gpus": [{"name": "NVIDIA GeForce RTX 3060", "vram_bytes": 12884901888}]}, source="p")
    gpu = hw.gpus[0]
    assert (gpu.vendor, gpu.architecture, gpu.compute_capability, gpu.unified_memory) == ("nvidia", "ampere", "8.6", False)
    assert hw.cpu is None and hw.disk is None and hw.ram_bytes is None
    assert hw.os == "unknown"


def test_given_compute_capability_wins_over_the_name_table() -> None:
    hw = hardware_from_json({"gpus": [{"name": "NVIDIA GeForce RTX 3060", "compute_capability": "8.9"}]}, source="p")
    assert (hw.gpus[0].compute_capability, hw.gpus[0].architecture) == ("8.9", "ada")


def test_apple_profile_gets_its_gpu_share_of_unified_memory() -> None:
    hw = hardware_from_json({"ram_bytes": 16 * 2**30, "gpus": [{"name": "Apple M2"}]}, source="p")
    gpu = hw.gpus[0]
    assert (gpu.vendor, gpu.architecture, gpu.unified_memory) == ("apple", "m2", True)
    assert gpu.vram_bytes == apple_gpu_share(16 * 2**30)
    assert (hw.os, hw.arch) == ("macos", "arm64")


@pytest.mark.parametrize(("given_os", "want"), [("darwin", "macos"), ("Windows", "windows"), ("linux", "linux")])
def test_os_names_are_normalised(given_os: str, want: str) -> None:
    assert hardware_from_json({"os": given_os}, source="p").os == want


def test_arch_aliases_are_normalised() -> None:
    assert hardware_from_json({"arch": "AMD64"}, source="p").arch == "x86_64"
    assert hardware_from_json({"arch": "aarch64"}, source="p").arch == "arm64"


BAD = [
    pytest.param({"gpus": [{"name": "NVIDIA GeForce RTX 4060", "vram_bytes": -1}]}, "gpus[0].vram_bytes",
                 "non-negative integer", id="negative-vram"),
    pytest.param({"gpus": [{"name": "NVIDIA GeForce RTX 4060", "vram_bytes": "8GB"}]}, "gpus[0].vram_bytes",
                 "non-negative integer", id="vram-as-text"),
    pytest.param({"gpus": [{"name": "NVIDIA GeForce RTX 4060", "vram_bytes": True}]}, "gpus[0].vram_bytes",
                 "non-negative integer", id="vram-bool"),
    pytest.param({"gpus": [{"name": "NVIDIA GeForce RTX 4060", "vram": 8}]}, "gpus[0].vram",
                 "did you mean 'vram_bytes'", id="near-miss-key"),
    pytest.param({"ram": 8}, "ram", "did you mean 'ram_bytes'", id="near-miss-top-key"),
    pytest.param({"gpus": [{"vram_bytes": 8}]}, "gpus[0].name", "required", id="missing-name"),
    pytest.param({"gpus": [{"name": "Mystery GPU 9000"}]}, "gpus[0].vendor", "not known from its name",
                 id="vendor-unknowable"),
    pytest.param({"gpus": [{"name": "X", "vendor": "3dfx"}]}, "gpus[0].vendor", "one of", id="bad-vendor"),
    pytest.param({"gpus": [{"name": "AMD Radeon RX 6800", "compute_capability": "8.6"}]},
                 "gpus[0].compute_capability", "NVIDIA GPUs only", id="cc-on-amd"),
    pytest.param({"gpus": [{"name": "NVIDIA GeForce RTX 4060", "compute_capability": "eight"}]},
                 "gpus[0].compute_capability", "8.9", id="cc-malformed"),
    pytest.param({"gpus": [{"name": "NVIDIA GeForce RTX 4060", "unified_memory": "no"}]},
                 "gpus[0].unified_memory", "true or false", id="bool-as-text"),
    pytest.param({"gpus": {"name": "x"}}, "gpus", "must be a list", id="gpus-not-list"),
    pytest.param({"gpus": ["RTX 4090"]}, "gpus[0]", "must be an object", id="gpu-not-object"),
    pytest.param({"cpu": {"model": "x", "cores": 0}}, "cpu.cores", "positive integer", id="zero-cores"),
    pytest.param({"disk": {"free_bytes": 1}}, "disk.path", "required", id="disk-without-path"),
    pytest.param({"disk": {"path": "/x", "rotational": 1}}, "disk.rotational", "true or false", id="rotational-int"),
    pytest.param({"schema": "rigfit.hardware/2"}, "schema", "rigfit.hardware/1", id="wrong-schema"),
    pytest.param({"warnings": "none"}, "warnings", "list of strings", id="warnings-text"),
    pytest.param(["not", "an", "object"], "document", "must be an object", id="top-level-list"),
]


@pytest.mark.parametrize(("doc", "field", "words"), BAD)
def test_malformed_profile_is_one_error_naming_the_field(doc: object, field: str, words: str) -> None:
    with pytest.raises(ProfileError) as info:
        hardware_from_json(doc, source="my.json")
    message = str(info.value)
    assert message.startswith(f"my.json: {field}: "), message
    assert words in message
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_profile_error_carries_the_field() -> None:
    with pytest.raises(ProfileError) as info:
        hardware_from_json({"gpus": [{"name": "NVIDIA GeForce RTX 4060", "vram_bytes": -1}]}, source="f.json")
    assert (info.value.field, info.value.source) == ("gpus[0].vram_bytes", "f.json")


def test_primary_gpu_is_the_one_with_most_vram() -> None:
    hw = Hardware("linux", "x86_64", None, None, (_gpu("a", 8), _gpu("b", 24, index=1), _gpu("c", 24, index=2)), None)
    assert hw.primary_gpu is not None and hw.primary_gpu.name == "b"
    assert Hardware("linux", "x86_64", None, None, (), None).primary_gpu is None
    assert Hardware("linux", "x86_64", None, None, (_gpu("u", None),), None).primary_gpu == _gpu("u", None)


def test_uuid_stays_out_of_the_document() -> None:
    hw = Hardware("linux", "x86_64", None, None, (Gpu("nvidia", "NVIDIA L4", 1, "8.9", "ada", None, None, False,
                                                      uuid="GPU-1234"),), None)
    assert "uuid" not in hardware_to_json(hw)["gpus"][0]


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2**40) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_keys = st.sampled_from(["os", "arch", "cpu", "ram_bytes", "gpus", "disk", "warnings", "schema", "vram"])


@settings(deadline=None)  # first calls import lazily; a loaded CI box must not fail them
@given(st.dictionaries(_keys, _json, max_size=5))
def test_any_document_gives_a_hardware_or_a_profile_error(doc: dict[str, Any]) -> None:
    with contextlib.suppress(ProfileError):
        hardware_from_json(doc, source="fuzz")


@settings(deadline=None)  # first calls import lazily; a loaded CI box must not fail them
@given(st.sampled_from(list(CONTRACT_EXAMPLE["gpus"][0])), _json)
def test_any_gpu_field_value_gives_a_hardware_or_a_profile_error(key: str, value: object) -> None:
    doc = copy.deepcopy(CONTRACT_EXAMPLE)
    doc["gpus"][0][key] = value
    with contextlib.suppress(ProfileError):
        hardware_from_json(doc, source="fuzz")
