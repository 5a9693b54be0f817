"""MkDocs hook: put the latest benchmark table into the Performance page when it exists.

``<!-- benchmark-table -->`` in a page becomes benchmarks/results/latest.md (written by
``python benchmarks/run.py``), or a note saying how to make it.
"""

import os

MARKER = "<!-- benchmark-table -->"


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    path = os.path.join(os.path.dirname(config["config_file_path"]), "benchmarks", "results", "latest.md")
    if os.path.exists(path):
        with open(path) as f:
            table = f.read()
    else:
        table = "*No results yet: run `python benchmarks/run.py` to write `benchmarks/results/latest.md`.*"
    return markdown.replace(MARKER, table)
