"""Render every page of the desktop wizard offscreen, from the real application, to ``docs/screenshots/``.

    .venv/bin/python scripts/screenshots.py            # 100 % light, 200 % light, dark
    .venv/bin/python scripts/screenshots.py --only 1x  # one variant

The wizard runs on embedded hardware profiles with the shipped catalog, plus the small test bundle of
``tests/gui/bundle.py`` served from 127.0.0.1 so the Install page shows a real download in progress (slowed to
a CDN-like speed) and the Finish page real checks. Each variant runs in its own process because the scale
factor is fixed when the QApplication starts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ("hardware", "goals", "advanced", "review", "install", "finish")
# name -> (scale, theme, pages, file suffix, hardware profile). The dark variant runs on Apple Silicon, where
# the Advanced page has choices to disable (FP8, GGUF K-quants).
VARIANTS = {
    "1x": (1.0, "light", ORDER, "", "rtx4070-12gb"),
    "2x": (2.0, "light", ORDER, "@2x", "rtx4070-12gb"),
    "dark": (1.0, "dark", ("hardware", "goals", "advanced", "install"), "-dark", "m3-max-64gb"),
}
PRESETS = ("photorealism", "anime")  # picked on the Goals page when the shipped catalog has them


def _wait(app: object, done: Callable[[], bool], timeout: float = 30.0) -> None:
    from rigfit.gui.qt import QApplication

    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise SystemExit("screenshots: timed out waiting for the wizard")
        QApplication.processEvents()
        time.sleep(0.01)
    for _ in range(5):  # let layouts settle before grabbing
        QApplication.processEvents()


def render(out: Path, scale: float, theme: str, pages: tuple[str, ...], suffix: str, profile: str) -> list[Path]:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.fileserver import FileServer
    from gui.bundle import write_catalog
    from rigfit.gui.app import apply_theme, make_application, make_wizard
    from rigfit.gui.qt import QMessageLogContext, QtMsgType, QWizard, qInstallMessageHandler
    from rigfit.gui.wizard import PAGE_INSTALL, RigfitWizard

    def quiet(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        # The offscreen plugin cannot pass size hints to a window manager and says so per window.
        if "propagateSizeHints" not in message:
            sys.stderr.write(f"qt: {message}\n")

    qInstallMessageHandler(quiet)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="rigfit-shots-") as tmp, FileServer() as server:
        os.environ["RIGFIT_HOME"] = str(Path(tmp) / "home")
        os.environ["HF_ENDPOINT"] = server.url("").rstrip("/")
        catalog, _files = write_catalog(server, Path(tmp) / "catalog")
        app = make_application()
        apply_theme(theme)
        wizard = make_wizard(hardware=[profile], catalog=[str(catalog)])
        assert isinstance(wizard, RigfitWizard)
        session = wizard.session
        wizard.show()

        def shot(name: str) -> None:
            if name in pages:
                _wait(app, lambda: True)
                path = out / f"{ORDER.index(name) + 1}-{name}{suffix}.png"
                wizard.grab().save(str(path))
                written.append(path)

        _wait(app, lambda: session.recommendation is not None)
        shot("hardware")
        wizard.next()
        rec = session.recommendation
        assert rec is not None
        wanted = [p for p in PRESETS if any(v.id == p and v.status in ("fits", "offload") for v in rec.presets)]
        for preset in wanted or ["guitest"]:
            session.set_preset(preset, True)
        wizard.currentPage().advanced.setChecked(True)  # type: ignore[attr-defined]
        shot("goals")
        wizard.next()
        shot("advanced")
        wizard.next()
        _wait(app, lambda: session.plan is not None)
        page = wizard.currentPage()
        page.comfyui.edit.setText(str(Path.home() / "ComfyUI"))  # type: ignore[attr-defined]
        page.models.edit.setText(str(Path.home() / ".local/share/rigfit/store"))  # type: ignore[attr-defined]
        shot("review")
        if not {"install", "finish"} & set(pages):
            return written
        # The Install and Finish pages download the small bundle from the local server.
        for preset in list(session.choices.presets):
            session.set_preset(preset, False)
        session.set_preset("guitest", True)
        session.plan = None
        wizard.back()
        wizard.next()
        _wait(app, lambda: session.plan is not None)
        page = wizard.currentPage()
        page.comfyui.edit.setText(str(Path(tmp) / "ComfyUI"))  # type: ignore[attr-defined]
        page.models.edit.setText(str(Path(tmp) / "store"))  # type: ignore[attr-defined]
        for steps, box in page.step_boxes.items():  # type: ignore[attr-defined]
            box.setChecked(steps == ("models",))  # no ComfyUI clone from the network here
        server.speed = 1_500_000
        wizard.button(QWizard.WizardButton.CommitButton).click()
        install = wizard.page(PAGE_INSTALL)
        _wait(app, lambda: install.total_bar.value() >= 450)  # type: ignore[attr-defined]
        shot("install")
        server.speed = None
        _wait(app, lambda: install.isComplete())
        wizard.next()
        _wait(app, lambda: wizard.currentPage().isComplete())
        shot("finish")
        wizard.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", choices=sorted(VARIANTS), help="one variant, in this process")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only:
        for path in render(args.out, *VARIANTS[args.only]):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        return 0
    for name in VARIANTS:
        done = subprocess.run([sys.executable, __file__, "--out", str(args.out), "--only", name], check=False)
        if done.returncode != 0:
            return done.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
