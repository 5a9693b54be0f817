"""Run public PyTorch programs on tinytorch with only their imports changed; write docs/programs.md.

    python scripts/run_programs.py --import-git pytorch/examples=/path/to/examples.git   # fill the cache once
    python scripts/run_programs.py                       # run every program, write the table
    python scripts/run_programs.py --only mnist --only gcn   # run some again (others keep their last result)
    python scripts/run_programs.py --list
    python scripts/run_programs.py --table-only          # rewrite the table from the saved results

Sources are read from a cache folder (``--sources``, or ``$TINYTORCH_PROGRAMS_SOURCES``, default
``~/.cache/tinytorch-programs``), one folder per repository (``pytorch+examples``), each with a
``.source.json`` naming the repository and the commit of its files. Nothing upstream is kept in
this repository. Each program runs in a fresh temporary folder holding its script's directory, with:

* its imports rewritten by scripts/programs_rewrite.py (nothing else in the code changes, except
  the patches scripts/programs_catalog.py lists: epoch/step constants of programs without a flag,
  and one line that skips a download);
* ``torch`` and ``torchvision`` made unimportable, so a missed import fails loudly instead of
  running on PyTorch;
* its data put where it looks (scripts/programs_fixtures.py): no program reaches the network.

A program passes when it exits with status 0. Otherwise the table gives the exception, the
program's line and tinytorch's innermost line from the last traceback. Results are also kept in
``<sources>/results.json`` so that ``--only`` re-runs update the table in place.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from programs_catalog import PROGRAMS  # noqa: E402
from programs_rewrite import rewrite_imports  # noqa: E402

ROOT = os.path.dirname(HERE)
PAGE = os.path.join(ROOT, "docs", "programs.md")
DEFAULT_SOURCES = os.environ.get("TINYTORCH_PROGRAMS_SOURCES", os.path.expanduser("~/.cache/tinytorch-programs"))
BLOCKED = ("torch", "torchvision")


def repo_folder(sources, repo):
    return os.path.join(sources, repo.replace("/", "+"))


def source_info(sources, repo):
    """The ``.source.json`` of a cached repository: {"repo", "commit"} or {"repo", "files": {path: commit}}."""
    path = os.path.join(repo_folder(sources, repo), ".source.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{repo} is not in {sources}: fill it with --import-git {repo}=GITDIR (see --help)")
    with open(path) as f:
        return json.load(f)


def commit_of(info, path):
    return info["files"].get(path, "") if "files" in info else info["commit"]


def import_git(sources, spec):
    """Export the newest commit of a git directory into the cache (``owner/name=GITDIR``)."""
    repo, _, git_dir = spec.partition("=")
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], check=True, capture_output=True,
                            text=True).stdout.strip()
    folder = repo_folder(sources, repo)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    listing = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", "HEAD"], check=True,
                             capture_output=True, text=True).stdout
    missing = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        _, kind, blob = meta.split()
        if kind != "blob":
            continue
        # A snapshot may lack its largest files: note them rather than fail.
        content = subprocess.run(["git", "--git-dir", git_dir, "cat-file", "blob", blob], capture_output=True)
        if content.returncode != 0:
            missing.append(path)
            continue
        os.makedirs(os.path.join(folder, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(folder, path), "wb") as f:
            f.write(content.stdout)
    with open(os.path.join(folder, ".source.json"), "w") as f:
        json.dump({"repo": repo, "commit": commit, "how": f"exported from {git_dir} at HEAD", "missing": missing},
                  f, indent=2)
    print(f"{repo} @ {commit} -> {folder}" + (f" (missing from the snapshot: {', '.join(missing)})" * bool(missing)))


def prepare(program, sources, tmp):
    """Copy the program's directory into ``tmp``, rewritten; return (working directory, notes)."""
    folder = repo_folder(sources, program.repo)
    script_dir = os.path.dirname(program.script)
    work = os.path.join(tmp, "src", script_dir)
    shutil.copytree(os.path.join(folder, script_dir), work, ignore=shutil.ignore_patterns(".source.json", ".git"))
    notes = []
    for dirpath, _, filenames in os.walk(work):
        for filename in filenames:
            if not filename.endswith(".py"):
                continue
            path = os.path.join(dirpath, filename)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if os.path.relpath(path, work) == os.path.basename(program.script):
                for old, new, why in program.patches:
                    if text.count(old) != 1:
                        raise RuntimeError(f"{program.name}: the patch ({why}) no longer applies: {old!r} "
                                           f"occurs {text.count(old)} times in {program.script}")
                    text = text.replace(old, new)
            text, _ = rewrite_imports(text)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    for fixture in program.fixtures:
        notes.append(fixture(work))
    # Stand-ins for torch and torchvision that refuse to import: the program must run on tinytorch.
    for name in BLOCKED:
        os.makedirs(os.path.join(tmp, "blocked", name))
        with open(os.path.join(tmp, "blocked", name, "__init__.py"), "w") as f:
            f.write(f"raise ImportError('run_programs: the real {name} is blocked; this import was not rewritten')\n")
    return work, notes


def environment(tmp):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(tmp, "blocked"), ROOT])
    env.update(MPLBACKEND="Agg", PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    return env


_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>.+)$')


def parse_failure(stderr, work):
    """(exception line, program frame, tinytorch frame) from the last traceback in ``stderr``."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last):")]
    if not starts:
        tail = [line for line in lines if line.strip()][-1:] or [""]
        return tail[0].strip(), "", ""
    block = lines[starts[-1] + 1:]
    frames, end = [], 0
    for i, line in enumerate(block):
        match = _FRAME.match(line)
        if match:
            code = block[i + 1].strip() if i + 1 < len(block) and block[i + 1].startswith("    ") else ""
            frames.append((match["path"], int(match["line"]), code))
            end = i + 2 if code else i + 1
    rest = [line for line in block[end:] if line.strip() and not set(line.strip()) <= set("^~ ")]
    exception = " ".join(line.strip() for line in rest)[:400]
    program = tiny = ""
    for path, number, code in frames:
        real = os.path.realpath(path)
        if real.startswith(os.path.realpath(work) + os.sep):
            program = f"{os.path.relpath(real, work)}:{number} `{code}`"
        elif f"{os.sep}tinytorch{os.sep}" in real and real.startswith(ROOT):
            tiny = f"{os.path.relpath(real, ROOT)}:{number}"
    return exception, program, tiny


def run_one(program, sources, timeout=None, keep=False):
    """Run one program; its result as a dict for the table."""
    info = source_info(sources, program.repo)
    result = {"name": program.name, "repo": program.repo, "script": program.script,
              "commit": commit_of(info, program.script), "args": list(program.args), "reduced": program.reduced,
              "patches": [why for _, _, why in program.patches], "data": [], "exception": "", "program_line": "",
              "tinytorch_line": "", "seconds": None, "note": program.note}
    if program.skip:
        return dict(result, status="not run", exception=program.skip)
    tmp = tempfile.mkdtemp(prefix="tinytorch-program-")
    try:
        work, result["data"] = prepare(program, sources, tmp)
        env = dict(environment(tmp), **program.env)
        limit = timeout or program.timeout
        steps = [(script, list(args)) for script, args in program.before] + [(os.path.basename(program.script),
                                                                              list(program.args))]
        start = time.perf_counter()
        for script, args in steps:
            try:
                done = subprocess.run([sys.executable, script, *args], cwd=work, env=env, capture_output=True,
                                      text=True, timeout=limit)
            except subprocess.TimeoutExpired as timed_out:
                stdout, stderr = (x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
                                  for x in (timed_out.stdout, timed_out.stderr))
                exception, line, tiny = parse_failure(stderr, work)
                return dict(result, status="timeout", seconds=round(time.perf_counter() - start, 1),
                            exception=f"still running after {limit} s (in {script})", program_line=line,
                            tinytorch_line=tiny, stdout_tail=stdout[-2000:], stderr_tail=stderr[-4000:])
            if done.returncode != 0:
                exception, line, tiny = parse_failure(done.stderr, work)
                if script != os.path.basename(program.script):
                    exception = f"(in {script}) {exception}"
                return dict(result, status="fail", seconds=round(time.perf_counter() - start, 1),
                            exception=exception or f"exit status {done.returncode}", program_line=line,
                            tinytorch_line=tiny, stdout_tail=done.stdout[-2000:], stderr_tail=done.stderr[-4000:])
        return dict(result, status="pass", seconds=round(time.perf_counter() - start, 1),
                    stdout_tail=done.stdout[-2000:])
    finally:
        if keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ").replace("\t", " ")


def _load_average():
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def write_page(results, meta, path=PAGE):
    """docs/programs.md from the results (in catalogue order)."""
    by_name = {r["name"]: r for r in results}
    rows = [by_name[p.name] for p in PROGRAMS if p.name in by_name]
    ran = [r for r in rows if r["status"] != "not run"]
    passed = [r for r in ran if r["status"] == "pass"]
    out = [
        "# Public PyTorch programs on tinytorch",
        "",
        "<!-- Generated by `python scripts/run_programs.py`; do not edit by hand. -->",
        "",
        "PyTorch's own beginner tutorials, the programs of [pytorch/examples](https://github.com/pytorch/examples)",
        "and [karpathy/makemore](https://github.com/karpathy/makemore), run on tinytorch with **only their imports",
        "changed**, and their epochs or steps cut (with the program's own flags where it has them).",
        "",
        f"**{len(passed)} of {len(ran)} pass** ({len(rows) - len(ran)} not run). "
        f"Run {meta['date']} on {meta['machine']}, load average {meta['load']} (1/5/15 min) at the start; "
        "times are wall-clock seconds of the program, on a shared 2-core machine.",
        "",
        "How they are run (`scripts/run_programs.py`, its `--help` says more):",
        "",
        "* the upstream files come from a local cache (`--sources`, default `~/.cache/tinytorch-programs`), never",
        "  from this repository; the table names each file's commit;",
        "* every import of `torch`/`torchvision` is rewritten by `scripts/programs_rewrite.py`, keeping line numbers",
        "  (`import torch` → `import tinytorch as torch`, `import torch.nn as nn` → `import tinytorch.nn as nn`,",
        "  `from torchvision import datasets` → `from tinytorch.vision import datasets`, ...); the real `torch` and",
        "  `torchvision` are made unimportable for the run;",
        "* no other change to the code, except the patches listed in the table (an epoch/step constant where the",
        "  program has no flag, or one line that skips a download whose data is already in place);",
        "* no network: data sets the programs would download are replaced by local files of the same format",
        "  where they look (MNIST from `data/MNIST/raw`; generated files otherwise), as the *Data* column says;",
        "* a program passes when it exits with status 0; otherwise the table gives the exception and the",
        "  program's and tinytorch's lines of the last traceback.",
        "",
        "| # | Program | Source | Arguments | Reduced | Data | Result | Time (s) | Last line of output | Why it fails |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows, 1):
        commit = r["commit"]
        source = (f"[{r['script']}](https://github.com/{r['repo']}/blob/{commit}/{r['script']}) "
                  f"@ `{commit[:9]}`") if commit else r["script"]
        reduced = "; ".join([r["reduced"]] * bool(r["reduced"]) + [f"patch: {p}" for p in r["patches"]]) or "—"
        args = " ".join(r["args"]) or "—"
        why = r["exception"]
        if r["program_line"]:
            why += f" — at {r['program_line']}"
        if r["tinytorch_line"]:
            why += f" — in `{r['tinytorch_line']}`"
        if r["status"] != "pass" and r.get("note"):
            why += f" ({r['note']})"
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
        printed = [line.strip() for line in r.get("stdout_tail", "").splitlines() if line.strip().strip("=-")]
        last = printed[-1][:120].replace("`", "'") if printed else ""
        result = {"pass": "**pass**", "fail": "fail", "timeout": "timeout", "not run": "not run"}[r["status"]]
        out.append(f"| {i} | {_cell(r['name'])} | {source} | `{_cell(args)}` | {_cell(reduced)} | "
                   f"{_cell('; '.join(r['data']) or '—')} | {result} | {seconds} | {_cell(last) and '`' + _cell(last) + '`'} | "
                   f"{_cell(why or '')} |")
    out += ["", "Repositories: " + "; ".join(f"{repo} @ {commit if ' ' in commit else '`' + commit + '`'}"
                                             for repo, commit in meta["commits"]) + ".", ""]
    with open(path, "w") as f:
        f.write("\n".join(out))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", default=DEFAULT_SOURCES, help="cache folder of the upstream repositories")
    parser.add_argument("--import-git", action="append", default=[], metavar="OWNER/NAME=GITDIR",
                        help="export the HEAD of a git directory into the cache, then stop")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run the programs whose name contains NAME (repeatable); the others keep their last result")
    parser.add_argument("--timeout", type=int, help="seconds each program may run (default: its own, 300)")
    parser.add_argument("--list", action="store_true", help="list the programs and stop")
    parser.add_argument("--keep", action="store_true", help="keep each program's temporary folder")
    parser.add_argument("--page", default=PAGE, help="where to write the table (default docs/programs.md)")
    parser.add_argument("--table-only", action="store_true", help="write the table from the saved results, run nothing")
    args = parser.parse_args(argv)
    if args.import_git:
        for spec in args.import_git:
            import_git(args.sources, spec)
        return 0
    if args.list:
        for p in PROGRAMS:
            print(f"{p.name:40s} {p.repo} {p.script} {' '.join(p.args)}")
        return 0
    chosen = [p for p in PROGRAMS if not args.only or any(o in p.name for o in args.only)] * (not args.table_only)
    results_path = os.path.join(args.sources, "results.json")
    saved = {}
    if os.path.isfile(results_path):
        with open(results_path) as f:
            saved = json.load(f)
    results = {r["name"]: r for r in saved.get("results", [])}
    meta = {"date": datetime.date.today().isoformat(), "load": _load_average(),
            "machine": f"{platform.machine()}, Python {platform.python_version()}"}
    if chosen:
        print(f"load average {meta['load']}")
    for program in chosen:
        print(f"{program.name} ...", flush=True)
        r = run_one(program, args.sources, args.timeout, args.keep)
        results[program.name] = r
        detail = " ".join(x for x in (r["exception"], r["program_line"], r["tinytorch_line"]) if x)
        print(f"  {r['status']} {r['seconds'] or ''} {detail}", flush=True)
        saved = {"meta": meta, "results": list(results.values())}
        with open(results_path, "w") as f:
            json.dump(saved, f, indent=1)
    if chosen:
        saved["meta"] = meta
    repos = sorted({p.repo for p in PROGRAMS})
    commits = []
    for repo in repos:
        info = source_info(args.sources, repo)
        commits.append((repo, info.get("commit") or f"per file, as the table says ({info.get('how', '')})"))
    write_page(list(results.values()), dict(saved.get("meta", meta), commits=commits), args.page)
    print(f"wrote {os.path.relpath(args.page)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
