#!/usr/bin/env python3
"""A program's output, pasted into a doc, must still be what it prints.

    tests/doc_output.py DOC PROGRAM [ARGS...]

Runs PROGRAM and fails unless every line of its standard output, except
lines naming output files ("... written to ..."), appears in DOC in the same
order, as one block of consecutive lines.
"""
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    doc = open(sys.argv[1]).read()
    run = subprocess.run(sys.argv[2:], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        print(run.stderr)
        return 1
    lines = [l for l in run.stdout.rstrip("\n").split("\n") if " written to " not in l]
    while lines and lines[-1] == "":
        lines.pop()
    block = "\n".join(lines)
    if block in doc:
        print(f"{sys.argv[1]}: the output of {sys.argv[2]} ({len(lines)} lines) matches")
        return 0
    doc_lines = doc.split("\n")
    for n, line in enumerate(lines):
        if line not in doc_lines:
            print(f"{sys.argv[1]}: line {n + 1} of the output is not in the doc: {line!r}")
            break
    print(f"{sys.argv[1]}: the pasted output differs from what {sys.argv[2]} prints; "
          "paste it again and check the hand computation")
    return 1


if __name__ == "__main__":
    sys.exit(main())
