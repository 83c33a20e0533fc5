#!/usr/bin/env python3
"""Every fenced C block of the given docs must be code that the tests build
and run:

  - the block appears verbatim in a file of examples/ (in the file named by a
    "From `examples/NAME.c`:" line right above it, when there is one);
  - with --build BUILD_DIR, that file is compiled into a program (Meson's
    intro-targets.json) that some test runs, directly or as an argument
    (intro-tests.json).

    tests/doc_blocks.py SOURCE_ROOT [--build BUILD_DIR] docs/tutorial.md [docs/other.md ...]
"""
import glob
import json
import os
import re
import sys

FROM = re.compile(r"From `(examples/[\w.]+\.c)`:\s*$")


def tested_sources(build):
    """The example sources compiled into a program that a test runs."""
    info = os.path.join(build, "meson-info")
    targets = json.load(open(os.path.join(info, "intro-targets.json")))
    tests = json.load(open(os.path.join(info, "intro-tests.json")))
    run = set()
    for test in tests:
        for arg in test["cmd"]:
            run.add(os.path.normpath(arg if os.path.isabs(arg) else os.path.join(build, arg)))
    sources = set()
    for target in targets:
        if not any(os.path.normpath(f) in run for f in target["filename"]):
            continue
        for group in target.get("target_sources", []):
            sources.update(os.path.normpath(s) for s in group.get("sources", []))
    return sources


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    root = args.pop(0)
    build = None
    if args[0] == "--build" and len(args) >= 3:
        args.pop(0)
        build = args.pop(0)
    examples = {os.path.relpath(p, root): open(p).read()
                for p in glob.glob(os.path.join(root, "examples", "*.c"))}
    tested = tested_sources(build) if build else None
    failures = 0
    for doc in args:
        text = open(os.path.join(root, doc)).read()
        blocks = list(re.finditer(r"^```c\n(.*?)^```$", text, re.S | re.M))
        if not blocks:
            print(f"{doc}: no C blocks found")
            failures += 1
        for n, match in enumerate(blocks, 1):
            block = match.group(1)
            line = text[: match.start()].count("\n") + 1
            where = f"{doc}:{line}: C block {n} ({block.split(chr(10), 1)[0]!r})"
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            named = FROM.match(before)
            if named:
                files = [named.group(1)]
            else:
                files = [f for f, source in examples.items() if block in source]
            holding = [f for f in files if block in examples.get(f, "")]
            if not holding:
                print(f"{where} is not in {files[0] if files else 'any file of examples/'}")
                failures += 1
                continue
            if tested is not None and not any(
                    os.path.normpath(os.path.join(root, f)) in tested for f in holding):
                print(f"{where}: {', '.join(holding)} is built into no program that a test runs")
                failures += 1
        print(f"{doc}: {len(blocks)} C blocks checked"
              + (", each in an example that a test runs" if tested is not None else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
