#!/usr/bin/env python3
"""Generate a deterministic, developer-working-tree-like directory for benchmarks.

Same seed and parameters -> byte-identical tree (names, contents, modes; mtimes are
set to a fixed epoch too). Content:
  * FILES source-like text files of 1-16 KiB (log-uniform sizes) in nested
    directories, several languages, shared license headers, Zipf-distributed
    identifiers: compressible like real code, but no two files alike;
  * a few relative symlinks and executable scripts;
  * BIG incompressible (random) binaries of BIG_MB MiB each.
"""
import argparse
import os
import random
import sys

EPOCH = 1_700_000_000  # fixed mtime for every generated entry

SYLLABLES = ("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge gi go ha he hi ho "
             "ja je jo ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu "
             "ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze zi zo "
             "tr st pl gr br cl fl sh ch th qu x y n r s t l m k").split()

TOPS = [("src", 40), ("tests", 18), ("lib", 10), ("web", 10), ("tools", 6), ("docs", 5),
        ("services", 6), ("scripts", 2), ("config", 3)]

LANGS = {
    "cs": ("// Copyright (c) Example Corp. Licensed under the MIT License.\n"
           "// See LICENSE in the repository root for license information.\n\n"
           "using System;\nusing System.Collections.Generic;\nusing System.Linq;\n"
           "using System.Threading.Tasks;\n\n"),
    "ts": ("/**\n * Copyright (c) Example Corp.\n * SPDX-License-Identifier: Apache-2.0\n */\n"
           "import { Injectable } from '@core/di';\nimport type { Logger } from '@core/log';\n\n"),
    "go": ("// Copyright 2024 The Example Authors. All rights reserved.\n"
           "// Use of this source code is governed by a BSD-style license.\n\n"
           "package main\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"errors\"\n)\n\n"),
    "py": ("# Copyright (c) Example Corp.\n# SPDX-License-Identifier: MIT\n"
           "from __future__ import annotations\n\nimport logging\nimport typing as t\n\n"
           "log = logging.getLogger(__name__)\n\n"),
    "md": "",
    "json": "",
    "sh": "#!/usr/bin/env bash\nset -euo pipefail\n\n",
}
EXT_BY_TOP = {
    "src": ["cs", "ts", "go", "py"], "tests": ["cs", "ts", "py"], "lib": ["cs", "go", "ts"],
    "web": ["ts"], "tools": ["py", "go", "sh"], "docs": ["md"], "services": ["go", "cs", "py"],
    "scripts": ["sh", "py"], "config": ["json"],
}


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        r = self.rng
        words = set()
        while len(words) < 4000:
            words.add("".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 4))))
        self.words = sorted(words)
        r.shuffle(self.words)
        # Zipf-like weights: a few identifiers are everywhere, most are rare.
        cw, acc = [], 0.0
        for i in range(len(self.words)):
            acc += 1.0 / (i + 1) ** 1.07
            cw.append(acc)
        self.cw = cw
        self.types = ["int", "string", "bool", "long", "double", "byte[]", "Task", "Guid",
                      "DateTime", "TimeSpan", "Stream", "CancellationToken"]

    def ids(self, k):
        return self.rng.choices(self.words, cum_weights=self.cw, k=k)

    @staticmethod
    def pascal(w):
        return w[:1].upper() + w[1:]

    def line(self, lang, depth):
        r = self.rng
        a, b, c, d, e, f = self.ids(6)
        P = self.pascal
        n = r.randint(0, 4096)
        ind = ("\t" if lang == "go" else "    ") * depth
        k = r.random()
        if lang in ("md",):
            if k < 0.1:
                return f"\n## {P(a)} {b} {c}\n\n"
            if k < 0.2:
                return f"- `{a}.{P(b)}()` {c} {d} {e} {f}.\n"
            return " ".join(self.ids(r.randint(6, 16))).capitalize() + ".\n"
        if lang == "json":
            if k < 0.5:
                return f'{ind}"{a}{P(b)}": {n},\n'
            return f'{ind}"{a}.{b}": "{c}-{d}-{e}",\n'
        if k < 0.12:
            if lang == "py":
                return f"{ind}# {a} {b} {c} {d} {e} {f}\n"
            return f"{ind}// {a} {b} {c} {d} {e} {f}\n"
        if lang == "cs":
            t1, t2 = r.choice(self.types), r.choice(self.types)
            if k < 0.3:
                return f"{ind}public {t1} {P(a)}{P(b)}({t2} {c}, int {d} = {n})\n"
            if k < 0.6:
                return f"{ind}var {a}{P(b)} = await _{c}.{P(d)}Async({e}, {n}, ct);\n"
            if k < 0.8:
                return f"{ind}if ({a} is null || {b}.{P(c)} > {n}) throw new InvalidOperationException(\"{d} {e}\");\n"
            return f"{ind}{a}.{P(b)}({c}, {d}: {n});\n"
        if lang == "ts":
            if k < 0.3:
                return f"{ind}export function {a}{P(b)}({c}: {P(d)}, {e}?: number): {P(f)} {{\n"
            if k < 0.6:
                return f"{ind}const {a}{P(b)} = await this.{c}.{d}({e}, {n});\n"
            if k < 0.8:
                return f"{ind}if (!{a} || {b}.{c} > {n}) {{ throw new Error(`{d} {e}`); }}\n"
            return f"{ind}this.{a}.set('{b}', {c}.{d}({n}));\n"
        if lang == "go":
            if k < 0.3:
                return f"{ind}func ({a[0]} *{P(b)}) {P(c)}(ctx context.Context, {d} int) ({P(e)}, error) {{\n"
            if k < 0.6:
                return f"{ind}{a}, err := {b}.{P(c)}(ctx, {d}, {n})\n"
            if k < 0.8:
                return f"{ind}if err != nil {{ return nil, fmt.Errorf(\"{d} {e}: %w\", err) }}\n"
            return f"{ind}{a}.{P(b)} = append({a}.{P(b)}, {c}[{n % 64}])\n"
        if lang == "py":
            if k < 0.3:
                return f"{ind}def {a}_{b}(self, {c}: int, {d}: str = \"{e}\") -> {P(f)}:\n"
            if k < 0.6:
                return f"{ind}{a}_{b} = self.{c}.{d}({e}, {n})\n"
            if k < 0.8:
                return f"{ind}if {a} is None or {b}.{c} > {n}:\n"
            return f"{ind}log.debug(\"{a} %s {b}\", {c}.{d})\n"
        # sh
        if k < 0.5:
            return f"{ind}{a}_{b}=\"${{{c}:-{d}}}\"\n"
        return f"{ind}{a} --{b} \"${c}\" | {d} -{e[0]} {n}\n"

    def text(self, lang, size):
        r = self.rng
        out = [LANGS[lang] if r.random() < 0.7 else ""]
        total = len(out[0])
        depth = 0
        if lang == "json":
            out.append("{\n")
        while total < size:
            if lang != "md" and r.random() < 0.15:
                depth = max(0, min(4, depth + r.choice((-1, 1))))
            s = self.line(lang, depth + (1 if lang == "json" else 0))
            out.append(s)
            total += len(s)
        if lang == "json":
            out.append('  "end": true\n}\n')
        return "".join(out)[: max(size, 1)] if lang != "json" else "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--files", type=int, default=24000)
    ap.add_argument("--big", type=int, default=4)
    ap.add_argument("--big-mb", type=int, default=50)
    args = ap.parse_args()

    g = Gen(args.seed)
    r = g.rng
    out = args.out
    if os.path.exists(out) and os.listdir(out):
        sys.exit(f"{out} exists and is not empty")

    # Directories: top/<1..4 nested names>, each with a main language.
    n_dirs = max(1, args.files // 30)
    tops = [t for t, _ in TOPS]
    tw = [w for _, w in TOPS]
    dirs = {}
    while len(dirs) < n_dirs:
        top = r.choices(tops, weights=tw)[0]
        parts = [top] + [g.ids(1)[0] for _ in range(r.randint(1, 4))]
        path = "/".join(parts)
        if path not in dirs:
            dirs[path] = r.choice(EXT_BY_TOP[top])
    dir_list = sorted(dirs)
    dir_weights = [r.paretovariate(1.5) for _ in dir_list]

    files = {}
    while len(files) < args.files:
        d = r.choices(dir_list, weights=dir_weights)[0]
        lang = dirs[d] if r.random() < 0.85 else r.choice(("md", "json"))
        ext = lang
        name = f"{d}/{g.ids(1)[0]}{g.pascal(g.ids(1)[0]) if lang in ('cs','ts') else '_' + g.ids(1)[0]}.{ext}"
        if name not in files:
            files[name] = lang

    total = 0
    for name in sorted(files):
        lang = files[name]
        size = int(1024 * 16 ** r.random())
        data = g.text(lang, size).encode()
        p = os.path.join(out, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(data)
        os.chmod(p, 0o755 if lang == "sh" else 0o644)
        total += len(data)

    # A few relative symlinks (like node_modules/.bin or a "current" link).
    names = sorted(files)
    for i in range(16):
        target = r.choice(names)
        link = os.path.join(out, "links", f"link-{i:02d}")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(os.path.join(out, target), os.path.dirname(link)), link)

    big_names = ["build/output/app-bundle.pack", "data/fixtures/db-snapshot.sqlite",
                 "assets/media/demo-recording.mp4", "tools/bin/toolchain.tar.zst",
                 "assets/models/weights.bin", "data/cache/index.dat"]
    bytes_big = args.big_mb * 1024 * 1024
    for i in range(args.big):
        name = big_names[i % len(big_names)] + ("" if i < len(big_names) else f".{i}")
        p = os.path.join(out, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        br = random.Random(args.seed * 1000 + i)
        with open(p, "wb") as fh:
            left = bytes_big
            while left:
                n = min(left, 8 * 1024 * 1024)
                fh.write(br.randbytes(n))
                left -= n
        os.chmod(p, 0o644)
        total += bytes_big

    for root, dnames, fnames in os.walk(out, topdown=False):
        for n in fnames + dnames:
            os.utime(os.path.join(root, n), (EPOCH, EPOCH), follow_symlinks=False)
    os.utime(out, (EPOCH, EPOCH))
    print(f"generated {len(files)} text files in {len(dir_list)} leaf dirs, 16 symlinks, "
          f"{args.big} x {args.big_mb} MiB random binaries; {total / 1e6:.1f} MB in total")


if __name__ == "__main__":
    main()
