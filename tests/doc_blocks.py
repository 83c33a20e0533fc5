#!/usr/bin/env python3
"""Every fenced C block of the given docs must appear verbatim in a file of
examples/, so the code a reader copies is code the tests build and run.

    tests/doc_blocks.py SOURCE_ROOT docs/tutorial.md [docs/other.md ...]
"""
import glob
import os
import re
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root = sys.argv[1]
    examples = {p: open(p).read() for p in glob.glob(os.path.join(root, "examples", "*.c"))}
    failures = 0
    for doc in sys.argv[2:]:
        text = open(os.path.join(root, doc)).read()
        blocks = re.findall(r"^```c\n(.*?)^```$", text, re.S | re.M)
        if not blocks:
            print(f"{doc}: no C blocks found")
            failures += 1
        for n, block in enumerate(blocks, 1):
            if not any(block in source for source in examples.values()):
                line = text[: text.find(block)].count("\n") + 1
                first = block.split("\n", 1)[0]
                print(f"{doc}:{line}: C block {n} ({first!r}) is in no file of examples/")
                failures += 1
        print(f"{doc}: {len(blocks)} C blocks checked")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
