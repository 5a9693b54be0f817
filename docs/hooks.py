"""MkDocs hook: put the latest benchmark tables into the Performance page when they exist.

``<!-- benchmark-table -->`` (or ``<!-- benchmark-table latest-cuda.md -->``) in a page becomes
that file of benchmarks/results/ (written by ``python benchmarks/run.py``), or a note saying how
to make it.
"""

import os
import re

MARKER = re.compile(r"<!-- benchmark-table(?: (?P<name>[\w.-]+))? -->")


def on_page_markdown(markdown, page, config, files):
    results = os.path.join(os.path.dirname(config["config_file_path"]), "benchmarks", "results")

    def table(match):
        name = match.group("name") or "latest.md"
        path = os.path.join(results, name)
        if not os.path.exists(path):
            device = " --device cuda" if "cuda" in name else ""
            return f"*No results yet: `python benchmarks/run.py{device}` writes `benchmarks/results/{name}`.*"
        with open(path) as f:
            return f.read()

    return MARKER.sub(table, markdown)
