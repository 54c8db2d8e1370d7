"""Linux sysfs: ``/sys/class/drm/cardN/device/*`` files for AMD and Intel GPUs (NVIDIA goes through NVML).

The shell reads the files of one card into a mapping ``{relative path: content}``; these functions only
interpret it. Files used:

- ``vendor``, ``device``: PCI ids (``0x1002`` AMD, ``0x8086`` Intel).
- ``mem_info_vram_total``, ``mem_info_vram_used`` (amdgpu): bytes. An APU reports its small carve-out here.
- ``ip_discovery/die/0/GC/0/{major,minor,revision}`` (amdgpu, Linux ≥ 5.19) → the gfx target;
  ``kfd_gfx_target_version`` (from ``/sys/class/kfd/kfd/topology/nodes/N/properties``) as the fallback.
- ``tile0/physical_vram_size_bytes`` (Intel ``xe``), ``lmem_total_bytes`` (Intel's out-of-tree i915).
  Mainline i915 exposes no VRAM size at all.
- ``uevent``: ``PCI_SLOT_NAME=0000:03:00.0``; ``product_name`` where the board has one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rigfit.core.errors import HardwareError
from rigfit.core.gpu_names import is_amd_apu, lookup_gpu
from rigfit.core.hardware import Gpu, complete_gpu
from rigfit.core.parsers.amd import gfx_from_ip_version, gfx_from_kfd_version
from rigfit.core.parsers.common import missing, to_int

SYSFS = "sysfs"
PCI_VENDORS = {"0x1002": "amd", "0x8086": "intel", "0x10de": "nvidia", "0x106b": "apple"}

# Intel discrete cards by PCI device id (Linux kernel drivers/gpu/drm/i915 and xe pciids) for a name when
# neither lspci nor product_name gives one.
_INTEL_IDS = {
    "0x56a0": "Intel Arc A770", "0x56a1": "Intel Arc A750", "0x56a2": "Intel Arc A580",
    "0x56a5": "Intel Arc A380", "0x56a6": "Intel Arc A310", "0x5690": "Intel Arc A770M",
    "0x5691": "Intel Arc A730M", "0x5692": "Intel Arc A550M", "0x5693": "Intel Arc A370M",
    "0x5694": "Intel Arc A350M", "0xe20b": "Intel Arc B580", "0xe20c": "Intel Arc B570",
    "0xe211": "Intel Arc Pro B60", "0xe212": "Intel Arc Pro B50",
}


def _get(files: Mapping[str, str], key: str) -> str | None:
    value = files.get(key)
    return value.strip() if isinstance(value, str) and not missing(value) else None


def parse_drm_card(files: Mapping[str, str], *, card: str, pci_name: str | None = None) -> Gpu | None:
    """The AMD or Intel GPU one DRM card describes, or ``None`` for other vendors (NVIDIA, virtual GPUs).

    ``pci_name`` is the product name lspci gives for the card's slot, when the shell has it.
    """
    vendor_id = (_get(files, "vendor") or "").lower()
    vendor = PCI_VENDORS.get(vendor_id)
    if vendor_id and not re.fullmatch(r"0x[0-9a-f]{4}", vendor_id):
        raise HardwareError(f"{SYSFS}: {card}/device/vendor is not a PCI id ({vendor_id[:20]!r})", source=SYSFS)
    if vendor not in ("amd", "intel"):
        return None
    device_id = (_get(files, "device") or "").lower()
    slot = re.search(r"PCI_SLOT_NAME=(\S+)", files.get("uevent") or "")
    index_match = re.fullmatch(r"card(\d+)", card)
    what = f"{card}/device"
    gfx = None
    if vendor == "amd":
        vram = to_int(_get(files, "mem_info_vram_total"), source=SYSFS, what=f"{what}/mem_info_vram_total")
        used = to_int(_get(files, "mem_info_vram_used"), source=SYSFS, what=f"{what}/mem_info_vram_used")
        ip = [_get(files, f"ip_discovery/die/0/GC/0/{k}") for k in ("major", "minor", "revision")]
        if ip[0] is not None and ip[1] is not None and ip[2] is not None:
            gfx = gfx_from_ip_version(ip[0], ip[1], ip[2])
        kfd = _get(files, "kfd_gfx_target_version")
        if gfx is None and kfd is not None:
            gfx = gfx_from_kfd_version(kfd)
        fallback_name = f"AMD GPU [{vendor_id[2:]}:{device_id[2:]}]" if device_id else "AMD GPU"
    else:
        vram = to_int(_get(files, "tile0/physical_vram_size_bytes") or _get(files, "lmem_total_bytes"),
                      source=SYSFS, what=f"{what} VRAM size")
        used = None
        fallback_name = _INTEL_IDS.get(device_id) or (
            f"Intel GPU [{vendor_id[2:]}:{device_id[2:]}]" if device_id else "Intel GPU")
    name = _get(files, "product_name") or pci_name or fallback_name
    if vendor == "intel" and not vram and lookup_gpu(name) is None:
        return None  # integrated Intel graphics (UHD, Iris Xe): nothing ComfyUI can use as a GPU
    return complete_gpu(Gpu(
        vendor=vendor, name=name, vram_bytes=vram or None, compute_capability=None, architecture=None,
        driver_version=None, cuda_driver_version=None, unified_memory=is_amd_apu(gfx),
        free_vram_bytes=vram - used if vram and used is not None and used <= vram else None,
        index=int(index_match.group(1)) if index_match else 0, pci_bus_id=slot.group(1) if slot else None,
        gfx_target=gfx,
    ))
