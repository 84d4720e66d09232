#!/usr/bin/env python3
"""Writes a random-weight benchmark model: d numeric features → h → h → 1 SiLU energy network
(log-odds output) with a Gaussian base, per class, via the Python writer.

    make_bench_model.py --d 30 --h 128 --out bench-30-128.ember [--classes 2] [--seed 0]

The issue's benchmark table uses (d, h) = (30, 128) and (64, 256). Same arguments → same bytes.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import ember_writer as ew  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--d", type=int, required=True, help="encoded width (numeric features)")
    ap.add_argument("--h", type=int, required=True, help="hidden width of both hidden layers")
    ap.add_argument("--out", required=True)
    ap.add_argument("--classes", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--starting-rows", type=int, default=256)
    ap.add_argument("--float16", action="store_true", help="store weights as float16")
    args = ap.parse_args(argv)
    if args.d < 1 or args.h < 1 or args.classes < 1:
        ap.error("--d, --h and --classes must be ≥ 1")
    m = ew.random_model(d=args.d, hidden=(args.h, args.h), classes=args.classes, seed=args.seed,
                        activation="silu", output="logodds", base=True, components=1,
                        weight_type="float16" if args.float16 else "float32",
                        starting_rows=args.starting_rows)
    m.provenance["objective"] = f"random benchmark model d={args.d} h={args.h}"
    ew.write_model(m, args.out)
    print(f"wrote {args.out}: {args.classes} classes, {args.d}→{args.h}→{args.h}→1 SiLU + Gaussian base, "
          f"{os.path.getsize(args.out)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
