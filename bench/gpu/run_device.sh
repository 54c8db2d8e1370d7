#!/usr/bin/env bash
# The one command run on the GPU machine (see README.md). Needs, beside the repo: .device/ComfyUI
# (ComfyUI source, with ComfyUI-GGUF under custom_nodes/) and .whl/ (wheels the image lacks).
# Writes $OUT/probes.tgz first (raw NVIDIA/host probe captures), then $OUT/calibration.json and
# $OUT/log.txt, so a timeout still returns the probes and every point measured so far.
set -u
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "wheel install failed"; exit 3; }
export PYTHONPATH=/tmp/site
P="$OUT/probes"
mkdir -p "$P"
Q=index,name,uuid,pci.bus_id,memory.total,memory.free,memory.used,compute_cap,driver_version
nvidia-smi > "$P/nvidia-smi.txt" 2>&1
nvidia-smi -q > "$P/nvidia-smi-q.txt" 2>&1
nvidia-smi -q -x > "$P/nvidia-smi-q.xml" 2>&1
nvidia-smi --query-gpu=$Q --format=csv,noheader,nounits > "$P/query-gpu-noheader-nounits.csv" 2>&1
nvidia-smi --query-gpu=$Q --format=csv > "$P/query-gpu-header-units.csv" 2>&1
python3 bench/gpu/probe_nvml.py > "$P/nvml.json" 2> "$P/nvml.stderr"
cat /proc/meminfo > "$P/proc-meminfo.txt"
head -n 60 /proc/cpuinfo > "$P/proc-cpuinfo-head.txt"
lscpu > "$P/lscpu.txt" 2>&1
uname -a > "$P/uname-a.txt"
nproc > "$P/nproc.txt"
if [ -f src/rigfit/cli/cmd_detect.py ]; then
  PYTHONPATH=src:/tmp/site timeout 60 python3 -m rigfit detect --json > "$P/rigfit-detect.json" 2> "$P/rigfit-detect.stderr"
  echo "rigfit detect exit $?" >> "$P/rigfit-detect.stderr"
fi
tar -czf "$OUT/probes.tgz" -C "$OUT" probes && rm -rf "$P"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))"
python3 bench/gpu/calibrate.py --comfy .device/ComfyUI --gguf .device/ComfyUI/custom_nodes/ComfyUI-GGUF \
  --out "$OUT/calibration.json" --budget-s "${BUDGET_S:-400}" ${ONLY:+--only "$ONLY"} \
  --comfy-commit a125cd84b054a57729b5eecab930ca9408719832 --comfy-source github.com/Comfy-Org/ComfyUI \
  --gguf-commit 795e45156ece99afbc3efef911e63fcb46e6a20d 2>&1 | tee "$OUT/log.txt"
