"""``rigfit estimate MODEL[=VARIANT]``: the budget of one model at the user's own settings."""

from __future__ import annotations

import argparse
import re


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL[=VARIANT]",
                        help="a catalog model id, optionally =VARIANT (a variant id, Q8_0, fp8, bf16, ...)")
    parser.add_argument("--resolution", metavar="WxH", help="image or video size (default: the model's native)")
    parser.add_argument("--frames", type=int, metavar="N", help="video frames (default: the model's default)")
    parser.add_argument("--batch", type=int, default=1, metavar="N", help="images per batch (default 1)")


def parse_resolution(text: str | None) -> tuple[int, int] | None:
    from rigfit.core.errors import UsageError

    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*", text)
    if not match:
        raise UsageError(f"--resolution {text!r}: expected WIDTHxHEIGHT, e.g. 1024x1024")
    return int(match.group(1)), int(match.group(2))


def run(args: argparse.Namespace) -> int:
    from rigfit.cli.render import emit_json
    from rigfit.core.estimate import estimate_model
    from rigfit.core.quant import device_of
    from rigfit.shell.catalog_source import load_catalog
    from rigfit.shell.hardware_source import load_hardware

    model, _, wanted = args.model.partition("=")
    resolution = parse_resolution(args.resolution)
    catalog = load_catalog(tuple(args.catalog or ()))
    device = device_of(load_hardware(args.hardware))
    est = estimate_model(catalog, device, model.strip(), wanted.strip() or None, resolution=resolution,
                         frames=args.frames, batch=args.batch)
    if args.json:
        from rigfit.core.report import estimate_json

        emit_json(estimate_json(est, device, catalog))
        return 0
    from rigfit.cli.recommend_view import show_estimate

    show_estimate(est, device)
    return 0
