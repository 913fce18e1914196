"""Build ``docs/tasks.md`` and its frame strips ``docs/img/tasks/<family>.png`` from real clips.

Run from the repository root::

    .venv/bin/python docs/build_tasks_doc.py [--families direction,rotation] [--eval-n 24] [--audit-n 400]
    .venv/bin/python docs/build_tasks_doc.py --audit-only [--keep data/audit_doc]   # the audit section alone

For every family in ``scenes.TASKS`` (in that order) it

1. generates a small example set through the real CLI (``n=4 seed=1``, 160x120, 15 fps, 2 s),
   decodes sample 0 and saves 6 evenly spaced frames side by side as the strip;
2. generates a clean evaluation set (``n=24 seed=1``, 96x72, 15 fps, 2 s) and runs
   ``synth eval model=oracle`` and ``model=single_frame`` on it;
3. generates an audit set (``n=400 seed=1``, 64x64, 8 fps, 2 s) and runs ``synth audit`` and
   ``synth eval model=oracle`` on it (the oracle shows the answer is visible at that size);
4. writes the markdown: a summary table, the shortcut audit table, then one section per family
   with the strip, the example item, the answer set, the example's parameters and the family's
   docstring.

``--audit-only`` does step 3 and replaces just the audit section of the existing file.

Everything is seeded, so a rerun on the same renderer gives the same pictures and figures.
Nothing but the two outputs above is written into the tree (the datasets live in a temp dir).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synth import scenes  # noqa: E402
from synth.dataset import read_manifest  # noqa: E402
from synth.video import read_clip  # noqa: E402

DOC = ROOT / "docs" / "tasks.md"
IMG_DIR = ROOT / "docs" / "img" / "tasks"
STRIP_FRAMES = 6
GAP_PX = 4
CLIP_ARGS = ["clip.fps=15", "clip.seconds=2", "progress=false"]
EXAMPLE_ARGS = ["n=4", "seed=1", "render.width=160", "render.height=120", *CLIP_ARGS]
EVAL_SEED = 1
AUDIT_ARGS = ["render.width=64", "render.height=64", "clip.fps=8", "progress=false"]
# Clip length of an audit set, seconds: 2, or longer where a family's question needs it.
AUDIT_SECONDS = {"world": 4}
AUDIT_FEATURES = ("first", "middle", "last", "text", "mean", "max")
AUDIT_BEGIN, AUDIT_END = "<!-- audit:begin -->", "<!-- audit:end -->"
# Which example sample a strip shows: the first record that passes the test (default: sample 0).
# count_moving's sample 0 has answer "0" (nothing moves), which illustrates nothing.
EXAMPLE_PICK = {"count_moving": lambda rec: rec["answer"] not in ("0", "1")}


def log(msg: str) -> None:
    print(msg, flush=True)


def cli(*args: str) -> str:
    """Run ``python -m synth.cli ARGS`` from the repository root; raise with its stderr on failure."""
    cmd = [sys.executable, "-m", "synth.cli", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()}")
    return proc.stdout


def generate(name: str, out: Path, extra: list[str]) -> None:
    cli("generate", f"task={name}", *extra, f"out={out}")


def strip_frames(frames: np.ndarray, count: int = STRIP_FRAMES) -> tuple[np.ndarray, list[int]]:
    """``count`` evenly spaced frames (first to last) side by side, white gaps between."""
    t = len(frames)
    idx = sorted({int(round(i)) for i in np.linspace(0, t - 1, count)})
    h = frames.shape[1]
    gap = np.full((h, GAP_PX, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for k, i in enumerate(idx):
        if k:
            parts.append(gap)
        parts.append(frames[i])
    return np.concatenate(parts, axis=1), idx


def evaluate(data: Path, model: str) -> dict:
    """Run ``synth eval``; its metrics plus ``_picked``: how often each option position was picked."""
    cli("eval", f"data={data}", f"model={model}")
    metrics = json.loads((data / "evals" / model / "metrics.json").read_text())
    options = {r["id"]: r["options"] for r in read_manifest(data)}
    picked: dict[str, int] = {}
    texts: set[str] = set()
    with open(data / "evals" / model / "predictions.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            p = json.loads(line)
            parsed = p.get("parsed")
            opts = options.get(p["id"], [])
            key = chr(65 + opts.index(parsed)) if parsed in opts else "invalid"
            picked[key] = picked.get(key, 0) + 1
            texts.add(str(parsed))
    metrics["_picked"] = dict(sorted(picked.items()))
    metrics["_texts"] = sorted(texts)
    return metrics


def answer_spread(m: dict) -> str:
    """Which option positions a model picked: 'always A (`left`)' or 'A 10, B 14'."""
    picked = m["_picked"]
    if len(picked) == 1:
        (pos,) = picked
        text = f" (`{m['_texts'][0]}`)" if len(m["_texts"]) == 1 else ""
        return f"always {pos}{text}"
    return ", ".join(f"{k} {v}" for k, v in picked.items())


# -- markdown helpers -------------------------------------------------------------------------


def fmt_value(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if v == 0:
            return "0"
        if not math.isfinite(v):
            return repr(v)
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.4g}"
    if v == "":
        return '""'
    return str(v)


def md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def rst_to_md(text: str) -> str:
    """Docstrings use reST literals (````x````) and roles (``:func:`x```); make them Markdown."""
    text = re.sub(r":(?:func|class|meth|mod|attr):`~?([^`]+)`", r"`\1`", text)
    text = text.replace("``", "`")
    # Outside code spans, a literal "<shape>" would be swallowed as an HTML tag.
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def docstring_paragraphs(name: str) -> tuple[str, str]:
    """(lead, body) of the family's docs: module docstring, else class docstring."""
    task = scenes.TASKS[name]
    module = sys.modules[type(task).__module__]
    doc = (module.__doc__ or type(task).__doc__ or "").strip()
    doc = rst_to_md(doc)
    paras = [" ".join(line.strip() for line in p.splitlines()) for p in re.split(r"\n\s*\n", doc) if p.strip()]
    if not paras:
        return task.description, ""
    body = []
    for p in paras[1:]:
        m = re.match(r"^(Question|Parameters|No shortcut|Oracle|Options)(:)\s*", p)
        if m:  # bold the standard paragraph heads
            p = f"**{m.group(1)}:** " + p[m.end():]
        body.append(p)
    if not any(p.startswith("**Oracle:**") for p in body):  # fall back to the oracle's own docstring
        odoc = (type(task).oracle.__doc__ or "").strip()
        if odoc and "Index of the option the pixels support" not in odoc:
            body.append("**Oracle:** " + " ".join(line.strip() for line in rst_to_md(odoc).splitlines()))
    return paras[0], "\n\n".join(body)


def params_table(params: dict, pairs_per_row: int = 2) -> str:
    items = [(k, fmt_value(v)) for k, v in params.items()]
    head = "| " + " | ".join(["parameter", "example"] * pairs_per_row) + " |"
    sep = "|" + "---|" * (2 * pairs_per_row)
    rows = []
    for i in range(0, len(items), pairs_per_row):
        chunk = items[i:i + pairs_per_row]
        cells = []
        for k, v in chunk:
            cells += [f"`{md_cell(k)}`", md_cell(v)]
        cells += [""] * (2 * pairs_per_row - len(cells))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *rows])


def pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def acc_ci(m: dict) -> str:
    lo, hi = m["ci95"]
    return f"{pct(m['accuracy'])} [{100 * lo:.0f}–{100 * hi:.0f}]"


# -- shortcut audit ---------------------------------------------------------------------------


def audit_family(name: str, n: int, tmp: Path) -> dict:
    """``synth audit`` and the oracle on a fresh set of ``n`` clips: audit.json plus ``oracle``."""
    data = tmp / f"{name}_audit"
    # A finished set in --keep is reused as it is, with its audit (delete DIR/evals/audit to re-measure).
    if not (data / "dataset.json").is_file():
        generate(name, data, [f"n={n}", f"seed={EVAL_SEED}", *AUDIT_ARGS, f"clip.seconds={AUDIT_SECONDS.get(name, 2)}"])
    audit_json = data / "evals" / "audit" / "audit.json"
    if not audit_json.is_file():
        cli("audit", f"data={data}")
    result = json.loads(audit_json.read_text())
    result["oracle"] = evaluate(data, "oracle")
    return result


def audit_markdown(audits: dict[str, dict], n: int) -> str:
    """The audit section, between the markers ``--audit-only`` replaces."""
    out = [AUDIT_BEGIN, "## Shortcut audit", ""]
    out.append(
        f"`synth audit` on a fresh clean set per family (`synth generate task=NAME n={n} seed={EVAL_SEED} "
        "render.width=64 render.height=64 clip.fps=8 clip.seconds=2` (`world`: 4 s, out, away and back), then "
        "`synth audit data=DIR`): held-out "
        "accuracy of a standardised logistic regression (scikit-learn, 5-fold GroupKFold on `group`) reading "
        "the answer from one frame area-averaged to 12x12x3 pixels (first, middle, last), from the question "
        "and options (bag of words), or from the clip's per-pixel mean / max image. A single-frame or text "
        "probe above chance + 0.1 is a shortcut (bold; `audit.strict=true` then fails). The mean / max "
        "probes may legitimately beat chance where the answer survives time reversal: each family declares "
        "how far (`order_free_ceiling`; *axis* = 0.5, the direction's axis but not its sense; *any* = 1.0) "
        "and its *No shortcut* paragraph says why. The oracle column is `synth eval model=oracle` on the "
        "same clips: the answer is visible at this size."
    )
    out += ["", "| family | n | chance | first | middle | last | text | mean | max | order-free may tell | oracle | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, res in audits.items():
        probes = {p["feature"]: p for p in res["probes"]}
        cells = []
        for feature in AUDIT_FEATURES:
            p = probes[feature]
            text = f"{p['accuracy']:.2f}"
            cells.append(f"**{text}**" if p["verdict"] == "shortcut" else text)
        chance = next(iter(probes.values()))["chance"]
        ceiling = scenes.TASKS[name].order_free_ceiling
        may = {None: "chance", 0.5: "axis", 1.0: "any"}.get(ceiling) or f"{ceiling:g}"
        verdict = "shortcut: " + ", ".join(s.split("/")[1] for s in res["shortcuts"]) if res["shortcuts"] else res["verdict"]
        out.append(f"| [{name}](#{name}) | {res['n']} | {chance:.2f} | " + " | ".join(cells)
                   + f" | {may} | {acc_ci(res['oracle'])} | {verdict} |")
    out += ["", AUDIT_END]
    return "\n".join(out)


def replace_audit(doc: str, section: str) -> str:
    """``doc`` with its audit section replaced (or inserted before the per-family sections)."""
    if AUDIT_BEGIN in doc:
        head, rest = doc.split(AUDIT_BEGIN, 1)
        return head + section + rest.split(AUDIT_END, 1)[1]
    anchor = "Each section below shows a sample"
    head, rest = doc.split(anchor, 1)
    return head + section + "\n\n" + anchor + rest


# -- main -------------------------------------------------------------------------------------


def build(families: list[str], eval_n: int, tmp: Path, audit_n: int) -> dict:
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    renderer = ""
    for k, name in enumerate(families, 1):
        t0 = time.perf_counter()
        log(f"[{k}/{len(families)}] {name}: example clips")
        ex_dir = tmp / name
        generate(name, ex_dir, EXAMPLE_ARGS)
        records = read_manifest(ex_dir)
        pick = EXAMPLE_PICK.get(name, lambda rec: True)
        rec = next((r for r in records if pick(r)), records[0])
        frames, _fps = read_clip(ex_dir / rec["video"])
        strip, idx = strip_frames(frames)
        Image.fromarray(strip).save(IMG_DIR / f"{name}.png", optimize=True)
        card = json.loads((ex_dir / "dataset.json").read_text())
        renderer = card.get("renderer", renderer)

        log(f"[{k}/{len(families)}] {name}: eval set n={eval_n} + oracle / single_frame")
        ev_dir = tmp / f"{name}_eval"
        generate(name, ev_dir, [f"n={eval_n}", f"seed={EVAL_SEED}", "render.width=96", "render.height=72", *CLIP_ARGS])
        oracle = evaluate(ev_dir, "oracle")
        single = evaluate(ev_dir, "single_frame")
        ev_card = json.loads((ev_dir / "dataset.json").read_text())
        results[name] = {
            "record": rec,
            "frame_idx": idx,
            "num_frames": len(frames),
            "fps": rec["fps"],
            "answers": scenes.TASKS[name].answers({}),
            "balance": ev_card.get("answer_balance", {}),
            "oracle": oracle,
            "single": single,
        }
        log(f"    oracle {acc_ci(oracle)}  single_frame {acc_ci(single)}  chance {pct(oracle['chance'])}"
            f"  ({time.perf_counter() - t0:.1f} s)")
    audits = build_audits(families, audit_n, tmp)
    return {"families": results, "renderer": renderer, "eval_n": eval_n, "audits": audits, "audit_n": audit_n}


def build_audits(families: list[str], n: int, tmp: Path) -> dict[str, dict]:
    audits = {}
    for k, name in enumerate(families, 1):
        t0 = time.perf_counter()
        log(f"[{k}/{len(families)}] {name}: audit set n={n}, synth audit, oracle")
        audits[name] = audit_family(name, n, tmp)
        log(f"    {audits[name]['verdict']}  ({time.perf_counter() - t0:.1f} s)")
    return audits


def render_markdown(res: dict) -> str:
    fams = res["families"]
    n = res["eval_n"]
    out: list[str] = []
    w = out.append
    w("# Task families")
    w("")
    w("<!-- generated by docs/build_tasks_doc.py; edit that script, not this file -->")
    w("")
    w("Each task family turns seeded parameters into a 3D scene, a multiple-choice question, its options "
      "and the answer, known by construction. The pictures below are real frames from clips the CLI "
      "rendered; the figures were measured on freshly generated sets.")
    w("")
    w("```")
    w("synth list tasks                                   # the families, one line each")
    w("synth generate task=direction n=48 seed=7 out=data/dir render.width=128 render.height=128 \\")
    w("      clip.fps=15 clip.seconds=2")
    w("synth eval data=data/dir model=oracle              # the family's pixel-only solver")
    w("synth eval data=data/dir model=single_frame        # the same solver, middle frame only")
    w("```")
    w("")
    w("* **Balanced answers.** Every family has an *answer set* (below); a dataset draws each member "
      "equally often (`dataset.json` records the `answer_balance`), so always answering the most common "
      "option scores chance. Where options name objects (`speed_compare`, `depth_order`, `order`) they are "
      "sorted alphabetically and the balanced answer is the *position* of the right one.")
    w("* **No shortcut.** Every family is built so that no single frame gives the answer away: whatever "
      "a still image shows (position, size, orientation, colour) is drawn independently of the answer, "
      "and the question text and options never depend on it. Only the change between frames tells. "
      "Each section's *No shortcut* paragraph gives the family's argument, and `synth audit` tests it "
      "with learned probes ([Shortcut audit](#shortcut-audit)).")
    w("* **Oracles.** Every family ships a pixel-only solver (`scenes.oracle_for(task)`): it sees the "
      "decoded frames and the question text, never `params` or `tracks`. `synth eval data=DIR model=oracle` "
      "runs it; a high score proves the answer is visible in the video (use it as a sanity check of a "
      "dataset, e.g. after a degradation: where the oracle fails, the answer may no longer be visible). "
      "`model=single_frame` runs the same solver on the middle frame only. Read its score with care: "
      "the oracles measure change over time, so on one frame most of them fall back to one fixed option "
      "(the *single-frame picks* column: the option letter it chose), and with balanced answers a constant answer scores exactly "
      "chance. It confirms that answer balance defeats a constant guess and that the oracles do not "
      "read the answer off a still, but it is not an independent test of the no-shortcut argument: "
      "the shortcut audit below is.")
    w("")
    w("## Summary")
    w("")
    w(f"Measured on clean sets of n = {n} per family (`seed={EVAL_SEED}`, 96x72, 15 fps, 2 s, H.264; "
      "models see the default 8 frames; 95 % Wilson intervals in brackets; renderer "
      f"`{res['renderer']}`). With n = {n} the intervals are wide: these are smoke figures, not benchmarks.")
    w("")
    w("| family | answers | oracle accuracy [95 % CI] | single-frame accuracy [95 % CI] | chance | single-frame picks |")
    w("|---|---|---|---|---|---|")
    for name, r in fams.items():
        answers = ", ".join(f"`{a}`" for a in r["answers"])
        w(f"| [{name}](#{name}) | {answers} | {acc_ci(r['oracle'])} | "
          f"{acc_ci(r['single'])} | {pct(r['oracle']['chance'])} | {answer_spread(r['single'])} |")
    w("")
    w(audit_markdown(res["audits"], res["audit_n"]))
    w("")
    w("Each section below shows a sample (sample 0 unless noted) of `synth generate task=NAME n=4 seed=1 render.width=160 "
      "render.height=120 clip.fps=15 clip.seconds=2`: six evenly spaced frames, first to last, left to right.")
    w("")
    for name, r in fams.items():
        rec = r["record"]
        lead, body = docstring_paragraphs(name)
        w(f"## {name}")
        w("")
        w(f"*{scenes.TASKS[name].description}*")
        w("")
        frames_txt = ", ".join(str(i) for i in r["frame_idx"])
        w(f"![{name}: frames {frames_txt} of {r['num_frames']}](img/tasks/{name}.png)")
        w("")
        w(f"Frames {frames_txt} of {r['num_frames']} ({fmt_value(r['fps'])} fps), sample `{rec['id']}`.")
        w("")
        w(f"> **Q:** {rec['question']}  ")
        opts = "  ".join(
            f"**{chr(65 + i)}.** {o}" + (" ✔" if i == rec["answer_index"] else "") for i, o in enumerate(rec["options"])
        )
        w(f"> {opts}  ")
        w(f"> **Answer:** {chr(65 + rec['answer_index'])}. {rec['answer']}")
        w("")
        answers = ", ".join(f"`{a}`" for a in r["answers"])
        w(f"**Answer set** (balanced): {answers}. "
          f"Oracle {acc_ci(r['oracle'])}, single frame {acc_ci(r['single'])}, chance {pct(r['oracle']['chance'])} "
          f"(n = {n}).")
        w("")
        w(lead)
        w("")
        if body:
            w(body)
            w("")
        w(f"<details><summary>Parameters of this example ({len(rec['params'])} keys; "
          "units in the key names: <code>_deg</code>, <code>_m</code>, <code>_s</code>, "
          "<code>speed</code> in m/s, positions in metres)</summary>")
        w("")
        w(params_table(rec["params"]))
        w("")
        w("</details>")
        w("")
    from build_content_doc import markdown as content_section  # its own builder; kept on rebuild

    return "\n".join(out).rstrip() + "\n\n" + content_section()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="", help="comma-separated subset (default: all, in scenes.TASKS order)")
    ap.add_argument("--eval-n", type=int, default=24)
    ap.add_argument("--audit-n", type=int, default=400)
    ap.add_argument("--audit-only", action="store_true", help="rebuild only the shortcut audit section")
    ap.add_argument("--keep", default="", help="keep the generated datasets in this directory (reruns reuse finished audit sets)")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f] or list(scenes.TASKS)
    unknown = [f for f in families if f not in scenes.TASKS]
    if unknown:
        raise SystemExit(f"--families: unknown {', '.join(unknown)}; allowed {', '.join(scenes.TASKS)}")
    families = [f for f in scenes.TASKS if f in families]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="synth_tasks_doc_") as d:
        tmp = Path(args.keep or d)
        tmp.mkdir(parents=True, exist_ok=True)
        if args.audit_only:
            section = audit_markdown(build_audits(families, args.audit_n, tmp), args.audit_n)
            DOC.write_text(replace_audit(DOC.read_text(encoding="utf-8"), section), encoding="utf-8")
            log(f"wrote the audit section of {DOC.relative_to(ROOT)} ({time.perf_counter() - t0:.0f} s)")
            return
        res = build(families, args.eval_n, tmp, args.audit_n)
    DOC.write_text(render_markdown(res), encoding="utf-8")
    log(f"wrote {DOC.relative_to(ROOT)} and {len(families)} strips in {IMG_DIR.relative_to(ROOT)} "
        f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
