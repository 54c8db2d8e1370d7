#!/usr/bin/env python3
"""Print what NVML says about every GPU, as JSON (raw capture for rigfit's hardware-detection tests)."""

from __future__ import annotations

import json
import sys
from typing import Any


def _s(v: Any) -> Any:
    return v.decode() if isinstance(v, bytes) else v


def main() -> int:
    import pynvml

    pynvml.nvmlInit()
    doc: dict[str, Any] = {
        "nvml_version": _s(pynvml.nvmlSystemGetNVMLVersion()),
        "driver_version": _s(pynvml.nvmlSystemGetDriverVersion()),
        "cuda_driver_version": pynvml.nvmlSystemGetCudaDriverVersion(),
        "gpus": [],
    }
    try:
        doc["cuda_driver_version_v2"] = pynvml.nvmlSystemGetCudaDriverVersion_v2()
    except Exception as exc:
        doc["cuda_driver_version_v2_error"] = repr(exc)
    for i in range(pynvml.nvmlDeviceGetCount()):
        h = pynvml.nvmlDeviceGetHandleByIndex(i)
        mem = pynvml.nvmlDeviceGetMemoryInfo(h)
        gpu: dict[str, Any] = {
            "index": i,
            "name": _s(pynvml.nvmlDeviceGetName(h)),
            "uuid": _s(pynvml.nvmlDeviceGetUUID(h)),
            "pci_bus_id": _s(pynvml.nvmlDeviceGetPciInfo(h).busId),
            "memory_total_bytes": int(mem.total),
            "memory_free_bytes": int(mem.free),
            "memory_used_bytes": int(mem.used),
            "cuda_compute_capability": list(pynvml.nvmlDeviceGetCudaComputeCapability(h)),
        }
        for key, fn in (("power_limit_mw", pynvml.nvmlDeviceGetPowerManagementLimit),
                        ("max_pcie_link_generation", pynvml.nvmlDeviceGetMaxPcieLinkGeneration),
                        ("max_pcie_link_width", pynvml.nvmlDeviceGetMaxPcieLinkWidth),
                        ("brand", pynvml.nvmlDeviceGetBrand)):
            try:
                gpu[key] = int(fn(h))
            except Exception as exc:
                gpu[key + "_error"] = repr(exc)
        doc["gpus"].append(gpu)
    pynvml.nvmlShutdown()
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
