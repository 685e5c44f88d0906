"""``python -m talentgraph.demo OUT_DIR [--residents N] [--seed S]``: write the demo registers."""

from __future__ import annotations

import argparse
from pathlib import Path

from talentgraph.demo.generator import PIPELINE, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m talentgraph.demo", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    regs = generate(args.out_dir, residents=args.residents, seed=args.seed)
    width = max(len(name) for name in regs.paths)
    for name, path in regs.paths.items():
        print(f"{name:<{width}}  {regs.rows[name]:>7,} rows  {regs.bad_rows[name]:>2} bad  {path.name}")
    print(f"\nIngest: run the pipeline {PIPELINE} with input dir {regs.out_dir}")
    print(f"Entity-resolution truth (record,person): {regs.truth}")


if __name__ == "__main__":
    main()
