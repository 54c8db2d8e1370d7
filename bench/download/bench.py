"""Download benchmark: rigfit against aria2c, curl, curl + sha256sum and huggingface_hub, on loopback.

A local server (``tests/fixtures/fileserver.py``: ``sendfile``, optional per-connection speed cap as a CDN
applies) serves a bundle of random files (one of at least 2 GB) generated in a temporary folder and deleted
afterwards. Each client runs as its own process; the wall time includes everything it does (for rigfit:
start-up, the space check, the download, the sha256 verification and placing the files). Then an unchanged
20 GB store is re-verified (sparse files, so it costs no disk space).

    python bench/download/bench.py [--cap 25000000] [--reps 3] [--hf-python /tmp/hfvenv/bin/python]

Needs ``aria2c`` and ``curl`` on PATH; huggingface_hub is optional (``--hf-python``). Loopback only; every
loop is bounded. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.fileserver import FileServer  # noqa: E402

MB = 1_000_000
BUNDLE = {"big.safetensors": 2_000_000_000, "medium.safetensors": 400 * MB, "vae.safetensors": 200 * MB,
          "lora.safetensors": 100 * MB, "embedding.pt": 20 * MB}


def make_bundle(folder: Path, sizes: dict[str, int]) -> dict[str, str]:
    """Random files; returns name → sha256."""
    shas = {}
    for name, size in sizes.items():
        digest = hashlib.sha256()
        with open(folder / name, "wb") as fh:
            left = size
            while left:
                block = os.urandom(min(left, 16 << 20))
                fh.write(block)
                digest.update(block)
                left -= len(block)
        shas[name] = digest.hexdigest()
    return shas


CPU: list[float] = []  # CPU seconds (user + system) of the client processes of the current measurement


def timed(argv: list[str], **kwargs: object) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, **kwargs)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def check_outputs(out: Path, shas: dict[str, str]) -> None:
    """Every client must really have produced the files (checked outside the timing)."""
    for name, sha in shas.items():
        found = next(iter(out.rglob(name)), None)
        if found is None or found.stat().st_size != BUNDLE_SIZES[name]:
            raise RuntimeError(f"{out}: {name} missing or of the wrong size")
        if CHECK_HASHES:
            digest = hashlib.sha256()
            with open(found, "rb") as fh:
                while block := fh.read(16 << 20):
                    digest.update(block)
            if digest.hexdigest() != sha:
                raise RuntimeError(f"{out}: {name} has the wrong content")


BUNDLE_SIZES: dict[str, int] = {}
CHECK_HASHES = False


def clients(srv: FileServer, names: list[str], shas: dict[str, str], args: argparse.Namespace,
            work: Path) -> dict[str, Callable[[Path], float]]:
    urls = [srv.url(f"/{n}") for n in names]
    plan = work / "plan.json"
    plan.write_text(json.dumps({"schema": "rigfit.plan/1", "files": [
        {"url": u, "filename": n, "folder": "checkpoints", "bytes": BUNDLE_SIZES[n], "sha256": shas[n]}
        for u, n in zip(urls, names, strict=True)]}))
    aria_list = work / "aria2.txt"
    aria_list.write_text("".join(f"{u}\n" for u in urls))
    rigfit = [sys.executable, "-m", "rigfit", "install", str(plan), "--only", "models", "--json", "--yes"]

    def run_rigfit(extra: list[str]) -> Callable[[Path], float]:
        return lambda out: timed([*rigfit, "--comfyui", str(out / "ComfyUI"), "--models-dir", str(out / "store"),
                                  *extra], env={**os.environ, "RIGFIT_HOME": str(out / "home")})

    def curl(out: Path) -> float:
        argv = ["curl", "-s", "-f"]
        for u, n in zip(urls, names, strict=True):
            argv += [u, "-o", str(out / n)]
        return timed(argv)

    def curl_sha(out: Path) -> float:
        started = time.perf_counter()
        curl(out)
        timed(["sha256sum", *[str(out / n) for n in names]])
        return time.perf_counter() - started

    def aria2(out: Path) -> float:
        return timed(["aria2c", "-x8", "-s8", "--dir", str(out), "--input-file", str(aria_list),
                      "--file-allocation=none", "--allow-overwrite=true", "--auto-file-renaming=false",
                      "--console-log-level=warn", "--summary-interval=0", "--download-result=hide"])

    found: dict[str, Callable[[Path], float]] = {
        "rigfit --jobs 5 --segments 8 (aria2c's connection budget)": run_rigfit(["--jobs", "5", "--segments", "8"]),
        "rigfit defaults (--jobs 2 --segments 4)": run_rigfit([]),
        "aria2c -x8 -s8": aria2,
        "curl (one stream, no check)": curl,
        "curl + sha256sum": curl_sha,
    }
    if args.hf_python:
        found["huggingface_hub http_get (8 files in parallel)"] = lambda out: timed(
            [args.hf_python, str(Path(__file__).with_name("hf_client.py")), str(out), *urls])
    return found


def run_round(label: str, table: dict[str, list[float]], runs: dict[str, Callable[[Path], float]], work: Path,
              shas: dict[str, str], skip: set[str], cpu: dict[str, list[float]]) -> None:
    for name, run in runs.items():
        if name in skip:
            continue
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        # Start every client with no dirty pages left by the one before (its writeback would slow this one).
        os.sync()
        CPU.clear()
        seconds = run(out)
        check_outputs(out, shas)
        table.setdefault(name, []).append(seconds)
        cpu.setdefault(name, []).append(sum(CPU))
        print(f"  [{label}] {name}: {seconds:.2f} s, client CPU {sum(CPU):.2f} s, load {os.getloadavg()[0]:.1f}",
              flush=True)
        shutil.rmtree(out, ignore_errors=True)


def store_reverify(work: Path, files: int, size: int) -> dict[str, float]:
    """An unchanged store of ``files`` × ``size`` bytes (sparse; a few random bytes make each file distinct):
    the first verification hashes everything, the second must only stat."""
    from rigfit.shell.store import Store, sha256_file

    root = work / "store20"
    store = Store(root)
    for i in range(files):
        tmp = work / f"sparse{i}"
        with open(tmp, "wb") as fh:
            fh.truncate(size)
            fh.seek(size // 2)
            fh.write(os.urandom(64))
        store.add(tmp, sha256_file(tmp))
    store.index_path.unlink(missing_ok=True)  # forget the hashes: the first verification must read all
    t0 = time.perf_counter()
    count, total, bad = Store(root).verify_all()
    cold = time.perf_counter() - t0
    assert count == files and not bad
    t0 = time.perf_counter()
    count, total, bad = Store(root).verify_all()
    warm = time.perf_counter() - t0
    assert count == files and not bad
    # The same through the CLI: re-running an install whose 20 GB are all in place.
    plan = work / "plan20.json"
    objs = sorted((root / "objects" / "sha256").rglob("*"))
    objs = [o for o in objs if o.is_file()]
    plan.write_text(json.dumps({"schema": "rigfit.plan/1", "files": [
        {"url": f"http://127.0.0.1:9/{o.name}", "filename": f"f{i}.safetensors", "folder": "checkpoints",
         "bytes": o.stat().st_size, "sha256": o.name} for i, o in enumerate(objs)]}))
    argv = [sys.executable, "-m", "rigfit", "install", str(plan), "--only", "models", "--json", "--yes",
            "--comfyui", str(work / "C20"), "--models-dir", str(root)]
    timed(argv)  # first run: links the files into ComfyUI
    rerun = min(timed(argv) for _ in range(3))
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(work / "C20", ignore_errors=True)
    return {"bytes": total, "files": count, "cold_s": cold, "warm_s": warm, "cli_rerun_s": rerun}


def main() -> None:
    global CHECK_HASHES
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cap", type=int, default=25 * MB, help="bytes/s per connection for the capped runs")
    parser.add_argument("--reps", type=int, default=3, help="rounds of the uncapped comparison (median reported)")
    parser.add_argument("--hf-python", help="a Python with huggingface_hub installed")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the bundle (quick trials)")
    parser.add_argument("--no-capped", action="store_true")
    parser.add_argument("--only-store", action="store_true", help="only the 20 GB store re-verification")
    parser.add_argument("--check-hashes", action="store_true", help="also hash every client's output (slow)")
    parser.add_argument("--store-gb", type=int, default=20)
    parser.add_argument("--dir", default=None, help="where to put the temporary bundle (default: /tmp)")
    args = parser.parse_args()
    CHECK_HASHES = args.check_hashes
    BUNDLE_SIZES.update({n: max(1, int(s * args.scale)) for n, s in BUNDLE.items()})
    total = sum(BUNDLE_SIZES.values())
    results: dict[str, object] = {"bundle_bytes": total, "cap_bytes_per_s": args.cap, "nproc": os.cpu_count(),
                                  "loadavg_start": os.getloadavg()}
    if args.only_store:
        with tempfile.TemporaryDirectory(prefix="rigfit-bench-", dir=args.dir) as tmp:
            results["store"] = store_reverify(Path(tmp), args.store_gb // 2, 2_000_000_000)
        print(json.dumps(results, indent=1))
        print_table(results, total)
        return
    with tempfile.TemporaryDirectory(prefix="rigfit-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        src = work / "src"
        src.mkdir()
        print(f"generating {total / 1e9:.2f} GB of random files in {src}", flush=True)
        shas = make_bundle(src, BUNDLE_SIZES)
        names = list(BUNDLE_SIZES)
        with FileServer() as srv:
            for n in names:
                srv.add(f"/{n}", file=src / n)
            runs = clients(srv, names, shas, args, work)
            uncapped: dict[str, list[float]] = {}
            cpu: dict[str, list[float]] = {}
            for rep in range(args.reps):
                run_round(f"uncapped {rep + 1}/{args.reps}", uncapped, runs, work, shas, set(), cpu)
            results["uncapped_s"] = uncapped
            results["uncapped_cpu_s"] = cpu
            if not args.no_capped:
                srv.speed = args.cap
                capped: dict[str, list[float]] = {}
                capped_cpu: dict[str, list[float]] = {}
                run_round("capped", capped, runs, work, shas, {"curl + sha256sum"}, capped_cpu)
                results["capped_s"] = capped
                results["capped_cpu_s"] = capped_cpu
        results["store"] = store_reverify(work, args.store_gb // 2, 2_000_000_000)
    results["loadavg_end"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    print_table(results, total)


def print_table(results: dict[str, object], total: int) -> None:
    def rows(key: str) -> None:
        data = results.get(key)
        if not isinstance(data, dict):
            return
        print(f"\n{key} (bundle {total / 1e9:.2f} GB)\n")
        cpu = results.get(key.replace("_s", "_cpu_s"))
        print("| client | wall time (median) | throughput | client CPU (median) | runs (s) |")
        print("|---|---|---|---|---|")
        for name, times in data.items():
            med = statistics.median(times)
            cpu_med = statistics.median(cpu[name]) if isinstance(cpu, dict) and name in cpu else float("nan")
            print(f"| {name} | {med:.2f} s | {total / med / 1e6:.0f} MB/s | {cpu_med:.2f} s | "
                  f"{', '.join(f'{t:.2f}' for t in times)} |")

    rows("uncapped_s")
    rows("capped_s")
    store = results.get("store")
    if isinstance(store, dict):
        print(f"\nstore re-verify: {store['files']} files, {store['bytes'] / 1e9:.0f} GB: first (hashing) "
              f"{store['cold_s']:.2f} s, unchanged {store['warm_s'] * 1000:.1f} ms, "
              f"'rigfit install' re-run {store['cli_rerun_s']:.2f} s")


if __name__ == "__main__":
    main()
