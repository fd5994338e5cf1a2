"""Time docutils (the reference reStructuredText parser) parsing a file into its doctree.

usage: /usr/bin/python3 bench/docutils_parse.py FILE RUNS
Prints one JSON line: {"version", "runs_ms": [...], "cpu_ms": [...], "sections"}. Times are measured inside Python
(interpreter start and imports excluded); the caller measures the wall time of the whole process too.
"""
import json
import sys
import time

import docutils
import docutils.core
import docutils.nodes


def main():
    path, runs = sys.argv[1], int(sys.argv[2])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    overrides = {"report_level": 5, "halt_level": 5, "warning_stream": False, "file_insertion_enabled": False, "raw_enabled": False}
    times = []
    cpu = []
    sections = 0
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        tree = docutils.core.publish_doctree(text, settings_overrides=overrides)
        times.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
        sections = sum(1 for _ in tree.findall(docutils.nodes.section)) if hasattr(tree, "findall") else len(tree.traverse(docutils.nodes.section))
    print(json.dumps({"version": docutils.__version__, "runs_ms": times, "cpu_ms": cpu, "sections": sections}))


if __name__ == "__main__":
    main()
