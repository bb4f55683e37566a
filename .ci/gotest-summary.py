#!/usr/bin/env python3
"""Reads `go test -json` on stdin and prints a compact report: one line per
package, the full output of every failing test, the reason of every skipped
test, and a closing line `N passed, M failed, K skipped` counting tests."""
import json
import sys

outputs = {}   # (pkg, test) -> [lines]
passed = failed = skipped = 0
fail_names, skip_lines = [], []
for raw in sys.stdin:
    try:
        ev = json.loads(raw)
    except ValueError:
        print(raw, end="")  # build errors and other plain lines
        continue
    pkg, test, action = ev.get("Package", ""), ev.get("Test"), ev.get("Action")
    key = (pkg, test)
    if action == "output":
        outputs.setdefault(key, []).append(ev.get("Output", ""))
        continue
    if test is None:
        if action in ("pass", "fail", "skip"):
            lines = outputs.get(key, [])
            # the package's own summary line ("ok ...", "FAIL ...", "? ...")
            summary = [l for l in lines if l.startswith(("ok", "FAIL", "?", "---", "panic"))]
            if action == "fail":
                print("".join(lines), end="")
            else:
                print("".join(summary) or f"{action} {pkg}\n", end="")
        continue
    if action == "pass":
        passed += 1
    elif action == "fail":
        failed += 1
        fail_names.append(f"{pkg} {test}")
        print(f"--- FAIL {pkg} {test}")
        print("".join(outputs.get(key, [])), end="")
    elif action == "skip":
        skipped += 1
        reason = [l.strip() for l in outputs.get(key, []) if "SKIP" not in l and l.strip() and not l.startswith("=== ")]
        skip_lines.append(f"{pkg} {test}: {' '.join(reason)[:200]}")
    if action in ("pass", "fail", "skip"):
        outputs.pop(key, None)

if skip_lines:
    print(f"\nskipped tests ({len(skip_lines)}):")
    for l in skip_lines:
        print("  " + l)
if fail_names:
    print(f"\nfailed tests ({len(fail_names)}):")
    for l in fail_names:
        print("  " + l)
print(f"\n{passed} passed, {failed} failed, {skipped} skipped")
