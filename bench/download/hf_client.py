"""huggingface_hub's plain-HTTP downloader (``file_download.http_get``), files in parallel like
``snapshot_download`` (8 workers). Run with a Python that has huggingface_hub installed (a scratch venv).

    python hf_client.py OUT_DIR URL...
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from huggingface_hub.file_download import http_get


def fetch(out: Path, url: str) -> None:
    with open(out / url.rsplit("/", 1)[-1], "wb") as fh:
        http_get(url, fh)


def main() -> None:
    out = Path(sys.argv[1])
    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(fetch, out, url) for url in sys.argv[2:]]:
            future.result()


if __name__ == "__main__":
    main()
