#!/usr/bin/env python3
"""Apply the benchmark's deterministic "day of work" to a copy of the tree.

Same tree + same seed -> the same change, byte for byte, so every tool backs up
exactly the same second state:
  * FRACTION (or COUNT) of the small (< 1 MiB) regular files change: half get lines appended,
    half get a line in the middle rewritten (size may change);
  * one large file gets OVERWRITE_MIB MiB overwritten in its middle (size unchanged).
"""
import argparse
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--fraction", type=float, default=0.01)
    ap.add_argument("--count", type=int, default=None,
                    help="change exactly this many small files (instead of --fraction)")
    ap.add_argument("--overwrite-mib", type=int, default=1)
    args = ap.parse_args()
    r = random.Random(args.seed)

    small, large = [], []
    for root, dnames, fnames in os.walk(args.tree):
        dnames.sort()
        for n in sorted(fnames):
            p = os.path.join(root, n)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            (large if os.path.getsize(p) >= 1024 * 1024 else small).append(p)

    k = max(1, round(len(small) * args.fraction)) if args.count is None else min(args.count, len(small))
    chosen = r.sample(small, k)
    appended = modified = 0
    for i, p in enumerate(chosen):
        with open(p, "rb") as fh:
            data = fh.read()
        tag = f"change-{args.seed}-{i}-{r.getrandbits(64):016x}".encode()
        if i % 2 == 0:
            data += b"\n// " + tag + b": " + b" ".join(
                r.choice((b"fix", b"todo", b"refactor", b"rename", b"cache", b"retry"))
                for _ in range(r.randint(4, 40))) + b"\n"
            appended += 1
        else:
            lines = data.split(b"\n")
            mid = len(lines) // 2
            lines[mid] = b"    // edited: " + tag
            data = b"\n".join(lines)
            modified += 1
        with open(p, "wb") as fh:
            fh.write(data)

    big = sorted(large)
    if big:
        p = r.choice(big)
        size = os.path.getsize(p)
        n = args.overwrite_mib * 1024 * 1024
        off = max(0, size // 2 - n // 2)
        with open(p, "r+b") as fh:
            fh.seek(off)
            fh.write(r.randbytes(min(n, size)))
        print(f"mutated {appended} appended + {modified} edited of {len(small)} small files; "
              f"{n // 1048576} MiB overwritten at offset {off} of {os.path.relpath(p, args.tree)}")
    else:
        print(f"mutated {appended} appended + {modified} edited of {len(small)} small files; no large file")


if __name__ == "__main__":
    main()
