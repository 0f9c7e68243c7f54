"""Peer review: anonymous packets of the graded submissions, a balanced review plan, forms and a summary.

    python -m course_tools.publish.peer_review ASSIGNMENT [--root DIR] [-k 2] [--seed 0] [--rubric FILE]
    python -m course_tools.publish.peer_review collect ASSIGNMENT [--root DIR] [--spread 1]

The first form builds ``peer_review/<assignment>/`` (git-ignored, student data) from the graded
submissions in ``autograded/<student>/<assignment>/``:

``packets/<code>.html``
    one anonymous page per submission: the student's own answer cells (code and written
    answers) with their outputs, the outputs and figures of the demo cells (whose code is the
    released code), and the question each written answer replies to. Test cells (visible and
    hidden), locked cells, the header (NAME, COLLABORATORS) and all metadata are left out; every
    student id, name and e-mail the course knows of (gradebook, the NAME and COLLABORATORS
    lines) is replaced by ``[removed]`` in every text, output and traceback. Markup is sanitized
    as feedback pages are (``course_tools.publish.feedback.SanitizeFeedback``); math and scripts come from
    the pinned local copies in ``packets/_static``. Codes are random per ``--seed``, never the
    student's position in a list.
``forms/<reviewer>/<code>.json``
    the review forms: each student reviews exactly ``k`` submissions of others and each
    submission gets exactly ``k`` reviewers (a seeded shuffle, then each reviewer takes the next
    ``k`` in the ring: balanced, no self-review, the same plan for the same seed). A form lists
    the rubric's criteria with their levels, an empty ``score`` and ``comment`` per criterion,
    and an ``overall_comment``. Hand each student their ``forms/<id>/`` folder and the packets it names.
``rubric.json``
    the rubric: by default each written answer's ``*Rubric (N points).*`` list in the source
    notebook, one criterion per bullet (levels: 0, half, full); ``--rubric FILE`` takes one in the
    same format instead (edit the written file and pass it back). Model answers are never copied.
``instructor/plan.json``
    who wrote which packet and who reviews what: for instructors only.

``collect`` reads the filled forms back and writes ``instructor/summary.csv`` and
``summary.json``: per student and criterion every reviewer's score, the mean, and the spread
(max - min); a criterion whose spread is at least ``--spread`` points is flagged as a
disagreement for an instructor or teaching assistant to settle, and missing or invalid forms are
listed. Teaching assistants read the same packets.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import random
import re
import shutil
import sys
from pathlib import Path

import nbformat

from ..course import course_root
from ..notebooks.cells import SOLUTION_END, cell_grade_id, is_answer, is_locked, is_task, is_written_answer
from . import vendored_assets

REMOVED = "[removed]"


# --------------------------------------------------------------------------- the plan

def assign_reviewers(students: list[str], k: int = 2, seed: int = 0) -> dict[str, list[str]]:
    """reviewer -> the k students whose work they review: balanced, no self-review, reproducible."""
    students = sorted(set(students))
    if k < 1:
        raise ValueError("k must be at least 1")
    if len(students) < k + 1:
        raise ValueError(f"{len(students)} graded submissions cannot give {k} reviewers each without self-review "
                         f"(need at least {k + 1})")
    ring = students[:]
    random.Random(seed).shuffle(ring)
    n = len(ring)
    return {ring[i]: [ring[(i + step) % n] for step in range(1, k + 1)] for i in range(n)}


def packet_codes(students: list[str], seed: int = 0) -> dict[str, str]:
    """student -> an anonymous packet code, random per seed (not alphabetical, not the ring's order)."""
    rng = random.Random(f"packet-codes-{seed}")
    codes = rng.sample(range(1000, 10000), len(students))
    return {student: f"P{code}" for student, code in zip(sorted(students), codes)}


# --------------------------------------------------------------------------- the rubric

# the head may be bold or italic and may start a paragraph ("*Rubric (12 points).* The model answer ...")
_RUBRIC_HEAD = re.compile(r"^\*{0,2}Rubric\s*\(([\d.]+)\s*points?\)\.?\*{0,2}(?=\s|$)", re.I | re.M)
_BULLET = re.compile(r"^- ([\d.]+|Half a|One|Two|Three) (?:points?|pts?)\.?:\s*(.*)$", re.I)
_WORDS = {"half a": 0.5, "one": 1, "two": 2, "three": 3}


def _number(text: str) -> float:
    return _WORDS.get(text.lower(), None) or float(text)


def _levels(points: float, description: str) -> list[dict]:
    half = round(points / 2, 2)
    return [{"points": 0, "description": "missing or wrong"},
            {"points": half, "description": "partly: " + description},
            {"points": points, "description": description}]


def parse_rubric(source_nb) -> dict:
    """The rubric of every written answer: ``{"questions": [{"grade_id", "points", "criteria": [...]}]}``."""
    questions = []
    for cell in source_nb.cells:
        if not is_written_answer(cell):
            continue
        grade_id = cell_grade_id(cell)
        match = _RUBRIC_HEAD.search(cell.source)
        if not match:
            raise ValueError(f"written answer {grade_id} has no '*Rubric (N points).*' list")
        text = cell.source[match.end():].split(SOLUTION_END)[0]
        bullets: list[list[str]] = []
        for line in text.splitlines():
            if line.startswith("- "):
                bullets.append([line])
            elif bullets and line.strip():
                bullets[-1].append(line.strip())
        criteria = []
        for index, lines in enumerate(bullets, 1):
            head = _BULLET.match(lines[0])
            if not head:
                raise ValueError(f"{grade_id}: rubric line {lines[0]!r} does not start with '- N point(s):'")
            description = " ".join([head.group(2), *lines[1:]])
            points = _number(head.group(1))
            criteria.append({"id": f"{grade_id}.{index}", "description": description, "points": points,
                             "levels": _levels(points, description)})
        questions.append({"grade_id": grade_id, "points": float(match.group(1)), "criteria": criteria})
    return {"questions": questions}


def check_rubric(rubric: dict) -> None:
    for question in rubric["questions"]:
        for criterion in question["criteria"]:
            if not criterion.get("id") or not criterion.get("levels"):
                raise ValueError(f"rubric criterion without id or levels: {criterion}")


# --------------------------------------------------------------------------- anonymising

def identities(root: Path, students: list[str], assignment: str) -> set[str]:
    """Every id, name and e-mail that could name a student: ids, gradebook names, NAME/COLLABORATORS lines."""
    found = set(students)
    db = root / "gradebook.db"
    if db.exists():
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{db}") as gradebook:
            for student in gradebook.students:
                for value in (student.id, student.first_name, student.last_name, student.email, student.lms_user_id):
                    if value:
                        found.add(str(value))
                if student.first_name and student.last_name:
                    found.add(f"{student.first_name} {student.last_name}")
    for student in students:
        for path in (root / "submitted" / student / assignment).glob("*.ipynb"):
            for line in path.read_text(encoding="utf-8", errors="replace").replace("\\n", "\n").splitlines():
                match = re.search(r'\b(NAME|COLLABORATORS)\s*=\s*\\?"([^"\\]*)', line)
                if match:
                    found.update(part.strip() for part in re.split(r"[,;/&]| and ", match.group(2)) if part.strip())
    return {value for value in found if len(value.strip()) >= 2}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def scrubber(names: set[str]):
    """A function replacing each name (whole words, any case) in a string by ``[removed]``.

    Terminal colour codes are removed first: in a traceback ``\\x1b[33mname`` would hide the name from the
    whole-word match.
    """
    if not names:
        return lambda text: _ANSI.sub("", text)
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                         + r")(?![A-Za-z0-9])", re.I)
    return lambda text: pattern.sub(REMOVED, _ANSI.sub("", text))


def _scrub_tree(value, scrub, key: str = ""):
    if isinstance(value, str):
        return value if key.startswith("image/") else scrub(value)
    if isinstance(value, list):
        return [_scrub_tree(v, scrub, key) for v in value]
    if isinstance(value, dict):
        return type(value)((k, _scrub_tree(v, scrub, k)) for k, v in value.items())
    return value


# --------------------------------------------------------------------------- packets

def _kind(cell) -> str:
    """Of an autograded notebook, whose cells' metadata nbgrader rebuilt from the release."""
    if is_answer(cell):
        return "answer"
    if is_locked(cell) or is_task(cell):
        return "instructor"  # tests (visible and hidden), locked set-up, the grading guard
    return "plain"


def packet_notebook(graded_nb, header_cells: int, code: str, assignment: str, scrub):
    """The anonymous notebook of one submission: its answers, demo outputs and each written answer's question."""
    cells = graded_nb.cells[header_cells:]
    kept = [nbformat.v4.new_markdown_cell(
        f"# Peer review packet {code}: {assignment}\n\nAn anonymous classmate's answers, with the outputs and "
        "figures their code produced. Tests and the author's name are not shown. Review it with your form "
        f"`{code}.json`: score each criterion with one of its levels and say why in the comment.")]
    for index, cell in enumerate(cells):
        kind = _kind(cell)
        following = cells[index + 1] if index + 1 < len(cells) else None
        if kind == "answer":
            label = "written answer" if cell.cell_type == "markdown" else "code answer"
            kept.append(nbformat.v4.new_markdown_cell(f"**{label} `{cell_grade_id(cell)}`**"))
            new = (nbformat.v4.new_markdown_cell(cell.source) if cell.cell_type == "markdown"
                   else nbformat.v4.new_code_cell(cell.source, outputs=cell.get("outputs", [])))
            kept.append(new)
        elif kind == "plain" and cell.cell_type == "markdown" and following is not None \
                and following.cell_type == "markdown" and _kind(following) == "answer":
            kept.append(nbformat.v4.new_markdown_cell(cell.source))  # the question (released text)
        elif kind == "plain" and cell.cell_type == "code" and cell.get("outputs"):
            kept.append(nbformat.v4.new_code_cell(cell.source, outputs=cell.get("outputs", [])))  # a demo
    nb = nbformat.v4.new_notebook(cells=kept, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"packet-cell-{number:03d}"  # the author's own cell ids are not kept
        cell.source = scrub(cell.source)
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = [_scrub_tree(dict(o), scrub) for o in cell.outputs]
            for output in cell.outputs:
                output.pop("metadata", None) if output.get("output_type") == "stream" else None
                if "execution_count" in output:
                    output["execution_count"] = None
    return nbformat.from_dict(nb)


def render_packet(nb, code: str) -> str:
    from nbconvert.exporters import HTMLExporter  # noqa: F401 (the reader's edition renders with it)

    from .feedback import SanitizeFeedback
    from .reader_edition import render

    nb, _ = SanitizeFeedback().preprocess(nb, {})
    for cell in nb.cells:  # SanitizeFeedback's notes speak of feedback; the packet is a review
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = output["text"].replace("not shown in feedback", "not shown in the packet")
    page = render(nb, f"Peer review packet {code}", banner=f"Peer review packet {code}: anonymous, for review only.",
                  edition="peer-review-packet")
    return with_content_security_policy(page)


def packet_policy(page: str) -> str:
    """The packet's Content-Security-Policy: nothing from the network; images only as data: URLs; scripts only the
    pinned local copies beside the packets ('self') and the template's own inline scripts in <head>, by hash
    (student markup is sanitized before rendering, so it has none; a hash admits no script but those)."""
    import base64
    import hashlib

    head = page.split("</head>", 1)[0]
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", head, re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
                      for body in inline)
    return ("default-src 'none'; img-src data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
            f"script-src 'self' {hashes}".rstrip() + "; base-uri 'none'; form-action 'none'")


def with_content_security_policy(page: str) -> str:
    """``page`` with its policy (``packet_policy``) as the first element of <head>: an anonymous packet must not
    tell its author when, or from which address, a reviewer opens it."""
    policy = html.escape(packet_policy(page), quote=True)
    return page.replace("<head>", f'<head>\n<meta http-equiv="Content-Security-Policy" content="{policy}">', 1)


def _form(code: str, reviewer: str, assignment: str, rubric: dict) -> dict:
    return {"assignment": assignment, "packet": code, "reviewer": reviewer,
            "instructions": "For each criterion set 'score' to the points of one of its levels and explain in "
                            "'comment'. Leave the other fields as they are.",
            "criteria": [{"id": c["id"], "question": q["grade_id"], "description": c["description"],
                          "points": c["points"], "levels": c["levels"], "score": None, "comment": ""}
                         for q in rubric["questions"] for c in q["criteria"]],
            "overall_comment": ""}


def graded_students(root: Path, assignment: str) -> dict[str, Path]:
    found = {}
    for folder in sorted((root / "autograded").glob(f"*/{assignment}")):
        notebooks = sorted(folder.glob("*.ipynb"))
        if notebooks:
            found[folder.parent.name] = notebooks[0]
    return found


def build(assignment: str, root: Path, k: int = 2, seed: int = 0, rubric_path: Path | None = None,
          out: Path | None = None, progress=print) -> Path:
    """Write packets, forms, rubric and plan for ``assignment``; return the folder."""
    say = progress or (lambda *_: None)
    root = Path(root)
    graded = graded_students(root, assignment)
    if not graded:
        raise SystemExit(f"no graded submissions under {root / 'autograded'}/*/{assignment}: autograde first")
    plan = assign_reviewers(list(graded), k, seed)
    codes = packet_codes(list(graded), seed)
    source = nbformat.read(str(root / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    rubric = json.loads(Path(rubric_path).read_text(encoding="utf-8")) if rubric_path else parse_rubric(source)
    check_rubric(rubric)
    header = root / "source" / "header.ipynb"
    header_cells = len(nbformat.read(str(header), as_version=4).cells) if header.exists() else 0
    scrub = scrubber(identities(root, list(graded), assignment))

    folder = Path(out or root / "peer_review" / assignment)
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "packets").mkdir(parents=True)
    (folder / "instructor").mkdir()
    vendored_assets.ensure(folder / "packets" / vendored_assets.STATIC, root, say)
    for student, path in graded.items():
        nb = packet_notebook(nbformat.read(str(path), as_version=4), header_cells, codes[student], assignment, scrub)
        (folder / "packets" / f"{codes[student]}.html").write_text(render_packet(nb, codes[student]), encoding="utf-8")
    for reviewer, reviewees in plan.items():
        (folder / "forms" / reviewer).mkdir(parents=True)
        for reviewee in reviewees:
            form = _form(codes[reviewee], reviewer, assignment, rubric)
            (folder / "forms" / reviewer / f"{codes[reviewee]}.json").write_text(json.dumps(form, indent=1) + "\n",
                                                                                 encoding="utf-8")
    (folder / "rubric.json").write_text(json.dumps(rubric, indent=1) + "\n", encoding="utf-8")
    (folder / "instructor" / "plan.json").write_text(json.dumps(
        {"assignment": assignment, "k": k, "seed": seed, "packets": {codes[s]: s for s in sorted(graded)},
         "reviews": plan}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    shown = folder.relative_to(root) if folder.is_relative_to(root) else folder
    say(f"peer review of {assignment}: {len(graded)} packets, {k} reviews per student (seed {seed}) -> {shown}/")
    return folder


# --------------------------------------------------------------------------- collecting

def collect(assignment: str, root: Path, folder: Path | None = None, spread: float = 1.0,
            progress=print) -> dict:
    """Read the filled forms back; write and return the per-student summary with reviewer disagreement."""
    say = progress or (lambda *_: None)
    folder = Path(folder or Path(root) / "peer_review" / assignment)
    plan = json.loads((folder / "instructor" / "plan.json").read_text(encoding="utf-8"))
    author = plan["packets"]
    code_of = {student: code for code, student in author.items()}
    scores: dict[str, dict[str, dict[str, float]]] = {s: {} for s in author.values()}
    missing, invalid = [], []
    for reviewer, reviewees in plan["reviews"].items():
        for reviewee in reviewees:
            path = folder / "forms" / reviewer / f"{code_of[reviewee]}.json"
            if not path.exists():
                missing.append(f"{reviewer} -> {code_of[reviewee]}")
                continue
            try:
                form = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                invalid.append(f"{path.relative_to(folder)}: not JSON ({exc})")
                continue
            for criterion in form.get("criteria", []):
                score = criterion.get("score")
                allowed = {float(level["points"]) for level in criterion.get("levels", [])}
                if score is None:
                    missing.append(f"{reviewer} -> {code_of[reviewee]} {criterion.get('id')}")
                elif not isinstance(score, (int, float)) or float(score) not in allowed:
                    invalid.append(f"{path.relative_to(folder)} {criterion.get('id')}: score {score!r} "
                                   f"is not one of {sorted(allowed)}")
                else:
                    scores[reviewee].setdefault(criterion["id"], {})[reviewer] = float(score)
    rows = []
    for student in sorted(scores):
        for criterion, by_reviewer in sorted(scores[student].items()):
            values = list(by_reviewer.values())
            gap = max(values) - min(values)
            rows.append({"student": student, "packet": code_of[student], "criterion": criterion,
                         "scores": by_reviewer, "mean": round(sum(values) / len(values), 3),
                         "spread": gap, "disagreement": len(values) > 1 and gap >= spread})
    totals = {}
    for student in sorted(scores):
        per_reviewer: dict[str, float] = {}
        for by_reviewer in scores[student].values():
            for reviewer, value in by_reviewer.items():
                per_reviewer[reviewer] = per_reviewer.get(reviewer, 0.0) + value
        totals[student] = {"packet": code_of[student], "totals": per_reviewer,
                           "disagreements": [r["criterion"] for r in rows if r["student"] == student and r["disagreement"]]}
    summary = {"assignment": assignment, "spread_threshold": spread, "students": totals, "criteria": rows,
               "missing": missing, "invalid": invalid}
    (folder / "instructor" / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    with open(folder / "instructor" / "summary.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "packet", "criterion", "reviewer scores", "mean", "spread", "disagreement"])
        for row in rows:
            writer.writerow([row["student"], row["packet"], row["criterion"],
                             " ".join(f"{r}={v:g}" for r, v in sorted(row["scores"].items())),
                             row["mean"], row["spread"], "YES" if row["disagreement"] else ""])
    for student, info in totals.items():
        flag = f"  DISAGREE on {', '.join(info['disagreements'])}" if info["disagreements"] else ""
        marks = ", ".join(f"{r} {v:g}" for r, v in sorted(info["totals"].items())) or "no reviews yet"
        say(f"  {student:<20} {info['packet']}  {marks}{flag}")
    if missing:
        say(f"  {len(missing)} review(s) or score(s) missing")
    for line in invalid:
        say(f"  invalid: {line}")
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "collect":
        parser = argparse.ArgumentParser(prog="python -m course_tools.publish.peer_review collect",
                                         description="Read filled review forms back into a summary per student.")
        parser.add_argument("assignment")
        parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
        parser.add_argument("--spread", type=float, default=1.0,
                            help="points between the highest and lowest score that count as a disagreement")
        args = parser.parse_args(argv[1:])
        summary = collect(args.assignment, Path(args.root) if args.root else course_root(), spread=args.spread)
        return 1 if summary["invalid"] else 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
    parser.add_argument("-k", type=int, default=2, help="reviews per student (and reviewers per submission)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rubric", default=None, help="a rubric JSON file instead of the source notebook's rubrics")
    args = parser.parse_args(argv)
    build(args.assignment, Path(args.root) if args.root else course_root(), args.k, args.seed, Path(args.rubric) if args.rubric else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
