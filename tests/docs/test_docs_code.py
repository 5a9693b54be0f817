"""Every ```python block in docs/*.md runs, in order, one namespace per page: the docs cannot rot.

A block opts out with ``<!-- skip-test: reason -->`` on the line before it (only for blocks that
need the network or a GPU). ``--8<-- "path"`` lines (MkDocs snippets) are replaced by the file.
"""

import linecache
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
SNIPPET = re.compile(r'^--8<-- "([^"]+)"$', re.M)
SKIP = re.compile(r"<!-- skip-test(: [^>]*)? -->\s*$")


def code_blocks(text):
    """[(line number, code, skipped, included file or None)] of the page's python blocks, snippets expanded."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").splitlines()
        skipped = bool(before) and bool(SKIP.search(before[-1]))
        included = SNIPPET.search(match.group(1))
        code = SNIPPET.sub(lambda m: open(os.path.join(ROOT, m.group(1))).read(), match.group(1))
        source = os.path.join(ROOT, included.group(1)) if included else None
        blocks.append((text[: match.start()].count("\n") + 2, code, skipped, source))
    return blocks


PAGES = sorted(name for name in os.listdir(DOCS) if name.endswith(".md"))
PAGES_WITH_CODE = [name for name in PAGES if code_blocks(open(os.path.join(DOCS, name)).read())]


@pytest.mark.parametrize("page", PAGES_WITH_CODE)
def test_page_code_runs(page, tmp_path, monkeypatch):
    os.symlink(os.path.join(ROOT, "data"), tmp_path / "data")  # blocks use root="data", as from the repo
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.syspath_prepend(ROOT)
    namespace = {"__name__": "__docs__"}
    for line, code, skipped, source in code_blocks(open(os.path.join(DOCS, page)).read()):
        if skipped:
            continue
        if source:
            namespace["__file__"] = source  # an included program finds its files as when run as a script
        filename = f"docs/{page}, block at line {line}"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)  # tracebacks show the code
        exec(compile(code, filename, "exec"), namespace)
    sys.modules.pop("__docs__", None)


def test_the_pages_people_read_first_have_running_code():
    assert {"index.md", "tutorial.md", "autograd.md", "tools.md"} <= set(PAGES_WITH_CODE)


def test_skip_markers_are_seen_and_snippets_expand():
    text = 'x\n<!-- skip-test: needs a GPU -->\n```python\n1 / 0\n```\n\n```python\n--8<-- "tinytorch/__init__.py"\n```\n'
    (line, code, skipped, source), (_, snippet, kept, included) = code_blocks(text)
    assert (line, code, skipped, source) == (4, "1 / 0\n", True, None)  # the first line of code
    assert not kept and "__version__" in snippet and included == os.path.join(ROOT, "tinytorch", "__init__.py")


def test_make_figures_draws_every_figure(tmp_path):
    sys.path.insert(0, DOCS)
    try:
        import make_figures
    finally:
        sys.path.remove(DOCS)
    make_figures.main(["--out", str(tmp_path)])
    written = set(os.listdir(tmp_path))
    assert {"activations.png", "xor.png", "autograd_pipeline.png"} <= written
    assert {"activations.png", "xor.png", "autograd_pipeline.png", "graph.svg"} <= set(os.listdir(os.path.join(DOCS, "images")))
