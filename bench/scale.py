"""Benchmark inference across processes and on Dask against one process (issue 8).

    .venv/bin/python bench/scale.py                    # 40 files x 5,000 exchanges
    .venv/bin/python bench/scale.py --files 8 --per-file 1000 --keep /tmp/scale

Generates `--files` Flickr-style pcaps of `--per-file` exchanges each (the generator of
bench/capture.py, a different seed per file), then times, one after the other in this run:

    restscope specs infer FILES... --plugin flickr -j 1
    restscope specs infer FILES... --plugin flickr -j 2
    restscope specs infer FILES... --plugin flickr --dask local:2

checks that the three specs are byte-identical, and prints each wall time and the speed-up over
one process. Target (issue 8, acceptance 3): on 2 cores, -j 2 and the 2-worker LocalCluster each
reach >= 1.7x the single process.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from capture import generate  # bench/capture.py: the Flickr-style generator

REPO = Path(__file__).resolve().parents[1]


def restscope() -> list[str]:
    local = REPO / ".venv" / "bin" / "restscope"
    return [str(local)] if local.exists() else [sys.executable, "-m", "observe"]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--per-file", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    parser.add_argument("--runs", default="j1,j2,dask",
                        help="which runs, comma-separated among j1, j2, dask (ratios are to j1 "
                             "when it ran, or to --j1-seconds)")
    parser.add_argument("--j1-seconds", type=float, default=None,
                        help="a -j 1 time measured earlier, to compare against without re-running")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="restscope-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        files = []
        for index in range(args.files):
            path = folder / f"capture-{index:03d}.pcap"
            if not path.exists():
                generate(path, args.per_file, mss=1448, seed=1000 + index)
            files.append(str(path))
        print(f"{args.files} files x {args.per_file} exchanges generated in "
              f"{time.perf_counter() - started:.1f} s under {folder}")
        every = {"j1": ("-j 1", ["-j", "1"]), "j2": ("-j 2", ["-j", "2"]),
                 "dask": ("dask local:2", ["--dask", "local:2"])}
        runs = dict(every[name] for name in args.runs.split(","))
        times: dict[str, float] = {}
        if args.j1_seconds:
            times["-j 1"] = args.j1_seconds
        outputs: dict[str, bytes] = {}
        for label, extra in runs.items():
            out = folder / f"spec-{label.replace(' ', '_').replace(':', '')}.yaml"
            times[label] = timed([*restscope(), "specs", "infer", *files, "--plugin", "flickr",
                                  *extra, "-o", str(out)])
            outputs[label] = out.read_bytes()
            ratio = f"x{times['-j 1'] / times[label]:.2f}" if "-j 1" in times else ""
            print(f"{label:>14}: {times[label]:7.1f} s   {ratio}", flush=True)
        identical = len(set(outputs.values())) == 1
        print(f"specs byte-identical: {identical}")
        print("target: -j 2 and dask local:2 >= 1.7x the single process on 2 cores")
        if not identical:
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
