"""How long the desktop wizard takes to answer: start-up offscreen, a change of choice, building the plan.

    .venv/bin/python bench/gui_latency.py --runs 21

Each number is the median over ``--runs`` repetitions in this process (start-up: fresh processes), on an
embedded profile with the shipped catalog. A change of choice runs on the GUI thread (it must stay well under
the ~100 ms at which a click feels slow); the plan is built on a worker thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

PROFILE = "rtx4070-12gb"
STARTUP = (
    "import os, time; t=time.perf_counter(); os.environ['QT_QPA_PLATFORM']='offscreen'\n"
    "from rigfit.gui.app import make_application, make_wizard\n"
    "from rigfit.gui.qt import QApplication\n"
    f"app = make_application(); w = make_wizard(hardware=[{PROFILE!r}]); w.show()\n"
    "while w.session.recommendation is None: QApplication.processEvents()\n"
    "print(time.perf_counter() - t)\n"
)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs

    startup = []
    for _ in range(max(3, runs // 3)):
        out = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True,
                             env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        startup.append(float(out.stdout.strip().splitlines()[-1]))

    from rigfit.gui.services import Services
    from rigfit.gui.views import Choices

    services = Services(hardware=[PROFILE])
    hw = services.load_hardware("")
    services.recommend(hw, Choices())  # loads the catalog once
    toggles, variant, plans = [], [], []
    for i in range(runs):
        start = time.perf_counter()
        services.recommend(hw, Choices(presets=("photorealism", "anime"), lora=bool(i % 2)))
        toggles.append(time.perf_counter() - start)
        start = time.perf_counter()
        services.recommend(hw, Choices(presets=("photorealism",), variants=(("flux1-dev", "flux1-dev-gguf-q8_0"),)))
        variant.append(time.perf_counter() - start)
        start = time.perf_counter()
        services.build_plan(hw, Choices(presets=("photorealism", "anime")))
        plans.append(time.perf_counter() - start)
    print("| measurement | median |\n| --- | --- |")
    print(f"| start-up offscreen: import, window, catalog, first recommendation ({len(startup)} processes) | {ms(startup)} |")
    print(f"| a toggle on the Goals page (every preset re-recommended, 2 selected) | {ms(toggles)} |")
    print(f"| a quantization change on the Advanced page | {ms(variant)} |")
    print(f"| building the plan for the Review page (worker thread) | {ms(plans)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
