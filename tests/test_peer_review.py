"""Peer review (course_tools.publish.peer_review): anonymous packets, a balanced plan, forms from the rubric, a summary.

Built from a small class graded by the real pipeline (tests/conftest.py); one of its students has a
real-looking name and e-mail in the gradebook, on the NAME line and inside a written answer.
"""

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from conftest import IDENTITY, SMALL_CLASS
from course_tools import course
from course_tools.publish import peer_review

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_testing"


@pytest.fixture(scope="module")
def reviews(small_graded_class):
    """The peer review of the small class, built by the command line (k=2, seed 0)."""
    result = subprocess.run([sys.executable, "-m", "course_tools.publish.peer_review", ASSIGNMENT, "--root",
                             str(small_graded_class), "-k", "2", "--seed", "0"], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return small_graded_class / "peer_review" / ASSIGNMENT


def _packets(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((folder / "packets").glob("*.html"))}


def _visible_text(html: str) -> str:
    """The page without inline images (base64 can spell anything)."""
    return re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=\s]+", "", html)


def _page_lines(page: str) -> set[str]:
    """The page's text, line by line, as a reader sees it (tags removed, entities decoded)."""
    import html

    return {line.strip() for line in html.unescape(re.sub(r"<[^>]+>", "", page)).splitlines()}


def _significant_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= 12}


def _hidden_test_lines() -> set[str]:
    lines: set[str] = set()
    source = nbformat.read(str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    for cell in source.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
            lines |= _significant_lines(block)
    release = nbformat.read(str(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    public = {line.strip() for cell in release.cells for line in cell.source.splitlines()}  # not secret
    return {line for line in lines if line not in public}


def _solution_lines() -> set[str]:
    lines: set[str] = set()
    source = nbformat.read(str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    release = nbformat.read(str(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    public = {line.strip() for cell in release.cells for line in cell.source.splitlines()}
    for cell in source.cells:
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
            lines |= {line for line in _significant_lines(block) if line not in public}
    return lines


def test_every_graded_student_gets_a_packet_and_k_forms(reviews):
    packets = _packets(reviews)
    assert len(packets) == len(SMALL_CLASS)
    assert all(re.fullmatch(r"P\d{4}", code) for code in packets)
    for student in SMALL_CLASS:
        forms = sorted((reviews / "forms" / student).glob("*.json"))
        assert len(forms) == 2, f"{student} has {len(forms)} forms"


def test_packets_name_nobody(reviews):
    names = set(SMALL_CLASS) | {IDENTITY["first_name"], IDENTITY["last_name"], IDENTITY["email"],
                                "ada.lovelace", "Sample"}
    for code, html in _packets(reviews).items():
        text = _visible_text(html)
        found = sorted(n for n in names if re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", text, re.I))
        assert not found, f"packet {code} names {found}"
    # the name was really there to remove: the partial student's written answer carried it
    partial_code = json.loads((reviews / "instructor" / "plan.json").read_text())["packets"]
    code = next(c for c, s in partial_code.items() if s == IDENTITY["student"])
    assert "My answer ([removed], [removed], id [removed])" in _packets(reviews)[code]


def test_packets_carry_no_hidden_test_and_no_solution_the_student_did_not_write(reviews, small_graded_class):
    hidden = _hidden_test_lines()
    solutions = _solution_lines()
    assert hidden and solutions
    plan = json.loads((reviews / "instructor" / "plan.json").read_text())
    for code, html in _packets(reviews).items():
        student = plan["packets"][code]
        page = _visible_text(html)
        text = _page_lines(page)
        leaked = sorted(hidden & text)
        assert not leaked, f"packet {code} carries hidden-test lines: {leaked[:3]}"
        submitted = (small_graded_class / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
        written = {line.strip() for cell in nbformat.reads(submitted, as_version=4).cells
                   for line in cell.source.splitlines()}
        foreign = sorted((solutions & text) - written)
        assert not foreign, f"packet {code} carries solution lines its author did not write: {foreign[:3]}"
        assert "BEGIN HIDDEN TESTS" not in html and "BEGIN SOLUTION" not in html
    blank = next(c for c, s in plan["packets"].items() if s == "blank")
    assert not solutions & _page_lines(_visible_text(_packets(reviews)[blank])), \
        "the blank student's packet shows solution lines"


def test_packets_show_the_answers_and_figures_but_no_tests(reviews):
    plan = json.loads((reviews / "instructor" / "plan.json").read_text())
    for code, html in _packets(reviews).items():
        # A figure drawn after the first hidden test is replaced by the judge's note (issue 17.4: nothing
        # student code saw during hidden tests is published); either way no figure goes missing silently.
        figures = html.count('src="data:image/png;base64,') + html.count("output hidden: produced after hidden tests ran")
        assert figures >= (3 if plan["packets"][code] == "perfect" else 1), f"packet {code} lost its figures"
        assert "written answer" in html and "code answer" in html
        assert "def test_" not in html and "check_equal(" not in html, f"packet {code} shows test code"
        assert 'content="peer-review-packet"' in html and "https://" not in re.findall(r"<script[^>]*>", html).__str__()


def test_plan_is_balanced_without_self_review(reviews):
    plan = json.loads((reviews / "instructor" / "plan.json").read_text())
    reviewed = Counter(s for targets in plan["reviews"].values() for s in targets)
    assert set(plan["reviews"]) == set(SMALL_CLASS)
    assert all(len(set(targets)) == 2 for targets in plan["reviews"].values())
    assert all(reviewer not in targets for reviewer, targets in plan["reviews"].items())
    assert set(reviewed.values()) == {2}


@pytest.mark.parametrize("n,k", [(3, 1), (3, 2), (7, 3), (12, 2), (25, 4)])
def test_assignment_is_balanced_and_reproducible_for_any_class(n, k):
    students = [f"s{i:03d}" for i in range(n)]
    plan = peer_review.assign_reviewers(students, k, seed=5)
    assert plan == peer_review.assign_reviewers(list(reversed(students)), k, seed=5), "not reproducible"
    assert all(len(set(t)) == k and r not in t for r, t in plan.items())
    assert set(Counter(s for t in plan.values() for s in t).values()) == {k}
    others = [peer_review.assign_reviewers(students, k, seed=s) for s in range(6)]
    assert n <= 3 or any(o != plan for o in others), "the seed changes nothing"


def test_too_small_a_class_is_refused():
    with pytest.raises(ValueError, match="without self-review"):
        peer_review.assign_reviewers(["a", "b"], 2)


def test_same_seed_same_packets_and_plan(reviews, small_graded_class, tmp_path):
    again = peer_review.build(ASSIGNMENT, small_graded_class, k=2, seed=0, out=tmp_path / "again", progress=None)
    assert (again / "instructor" / "plan.json").read_text() == (reviews / "instructor" / "plan.json").read_text()
    assert _packets(again) == _packets(reviews)
    other = peer_review.build(ASSIGNMENT, small_graded_class, k=2, seed=1, out=tmp_path / "other", progress=None)
    assert json.loads((other / "instructor" / "plan.json").read_text())["packets"] != \
        json.loads((reviews / "instructor" / "plan.json").read_text())["packets"]


def test_forms_follow_the_source_rubric_without_the_model_answer(reviews):
    rubric = json.loads((reviews / "rubric.json").read_text())
    assert [q["grade_id"] for q in rubric["questions"]] == ["testing_across_modalities", "metrics_for_this_model"]
    for question in rubric["questions"]:
        assert sum(c["points"] for c in question["criteria"]) == question["points"]
    form = json.loads(next((reviews / "forms" / "perfect").glob("*.json")).read_text())
    assert form["reviewer"] == "perfect" and form["packet"] != "" and "overall_comment" in form
    assert len(form["criteria"]) == 6
    for criterion in form["criteria"]:
        assert criterion["score"] is None and criterion["comment"] == ""
        # three levels per criterion: nothing, half, all of its points (as the source rubric gives them)
        assert [level["points"] for level in criterion["levels"]] == [0, criterion["points"] / 2, criterion["points"]]
        assert criterion["points"] > 0
    text = json.dumps(form)
    assert "Model answer" not in text and "Edge cases: wrong shape or channel order" not in text


def test_collect_summarises_and_flags_disagreement(reviews):
    plan = json.loads((reviews / "instructor" / "plan.json").read_text())
    code_of = {s: c for c, s in plan["packets"].items()}
    # every reviewer gives full marks, except that the first reviewer of "perfect" gives 0 on one criterion
    first_of_perfect = sorted(r for r, t in plan["reviews"].items() if "perfect" in t)[0]
    for reviewer, targets in plan["reviews"].items():
        for target in targets:
            path = reviews / "forms" / reviewer / f"{code_of[target]}.json"
            form = json.loads(path.read_text())
            for criterion in form["criteria"]:
                criterion["score"] = criterion["points"]
                criterion["comment"] = "clear"
            if target == "perfect" and reviewer == first_of_perfect:
                form["criteria"][0]["score"] = 0
            path.write_text(json.dumps(form))
    result = subprocess.run([sys.executable, "-m", "course_tools.publish.peer_review", "collect", ASSIGNMENT, "--root",
                             str(reviews.parents[1])], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((reviews / "instructor" / "summary.json").read_text())
    assert summary["missing"] == [] and summary["invalid"] == []
    assert summary["students"]["perfect"]["disagreements"] == ["testing_across_modalities.1"]
    assert all(not summary["students"][s]["disagreements"] for s in SMALL_CLASS if s != "perfect")
    rubric = json.loads((reviews / "rubric.json").read_text())
    all_points = sum(c["points"] for q in rubric["questions"] for c in q["criteria"])
    first_criterion = rubric["questions"][0]["criteria"][0]["points"]
    assert summary["students"]["perfect"]["totals"][first_of_perfect] == all_points - first_criterion
    assert "DISAGREE on testing_across_modalities.1" in result.stdout
    csv_text = (reviews / "instructor" / "summary.csv").read_text()
    assert "perfect" in csv_text and "YES" in csv_text
    # an out-of-rubric score is reported, and the command fails
    path = reviews / "forms" / first_of_perfect / f"{code_of['perfect']}.json"
    form = json.loads(path.read_text())
    form["criteria"][1]["score"] = 7
    path.write_text(json.dumps(form))
    bad = subprocess.run([sys.executable, "-m", "course_tools.publish.peer_review", "collect", ASSIGNMENT, "--root",
                          str(reviews.parents[1])], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "score 7 is not one of" in bad.stdout


def _remote_resources(page: str) -> list[str]:
    """Everything in a page that a browser would fetch from outside it (independent of the course's own check)."""
    from bs4 import BeautifulSoup

    found = []
    for tag in BeautifulSoup(page, "html.parser").find_all(True):
        for name in ("src", "srcset", "background", "poster", "data"):
            value = str(tag.get(name, "")).strip().lower()
            if value.startswith(("http:", "https:", "//")) or (name == "srcset" and value):
                found.append(f"<{tag.name} {name}={value[:50]}>")
        if re.search(r"url\s*\(\s*['\"]?\s*(https?:|//)", str(tag.get("style", "")), re.I):
            found.append(f"<{tag.name} style=url(...)>")
        if tag.name == "link" and str(tag.get("href", "")).lower().startswith(("http:", "https:", "//")):
            found.append(f"<link href={tag['href'][:50]}>")
    return found


def _policy(page: str) -> dict[str, str]:
    from bs4 import BeautifulSoup

    head = BeautifulSoup(page, "html.parser").find("head")
    first = head.find(True)
    assert first.name == "meta" and first.get("http-equiv", "").lower() == "content-security-policy", \
        f"the packet's first <head> element is not its Content-Security-Policy: {str(first)[:120]}"
    return dict((d.strip().split(" ", 1) + [""])[:2] for d in first["content"].split(";") if d.strip())


def test_packets_load_nothing_remote_and_carry_a_strict_policy(reviews):
    for code, page in _packets(reviews).items():
        policy = _policy(page)
        assert policy["default-src"] == "'none'" and policy["img-src"] == "data:", (code, policy)
        assert not any(word in value for value in policy.values() for word in ("http", "*", "unsafe-eval")), policy
        assert "'unsafe-inline'" not in policy.get("script-src", ""), policy
        assert _remote_resources(page) == [], code


def test_remote_images_and_a_fake_verdict_do_not_survive_in_a_packet():
    """issue 17.8: a written answer loading remote images (who opens the anonymous packet, from where) and a green
    'All hidden tests passed' box made with the page's own CSS classes."""
    from attacks.markup import FAKE_VERDICT, REMOTE

    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_markdown_cell(f"My answer.\n\n{REMOTE}\n\n{FAKE_VERDICT}")
    answer.metadata["nbgrader"] = {"grade_id": "written", "solution": True, "grade": True, "points": 1,
                                   "locked": False, "schema_version": 3}
    nb.cells = [answer]
    page = peer_review.render_packet(nb, "X1")
    assert _remote_resources(page) == []
    assert "evil.example" not in "".join(re.findall(r"<img[^>]*>", page)), "a remote <img> survived"
    from bs4 import BeautifulSoup
    classes = {c for tag in BeautifulSoup(page, "html.parser").find_all(class_=True) for c in tag["class"]}
    assert not classes & {"alert", "alert-success", "label-success", "panel-success"}, \
        "student markup kept the page's CSS classes"
    assert "All hidden tests passed" in page  # shown, as the student's text
    _policy(page)


@pytest.mark.parametrize("name", [a.name for a in course.load(ROOT).assignments if a.written])
def test_every_written_answer_rubric_parses_into_criteria_worth_its_points(name):
    """Every assignment's rubrics follow one format (`*Rubric (N points).*`, then `- N points: ...` bullets; a deduction
    is said in the head's paragraph, not as a bullet), and the criteria add up to the manifest's points."""
    written = course.load(ROOT).assignment(name).written
    rubric = peer_review.parse_rubric(nbformat.read(str(ROOT / "source" / name / f"{name}.ipynb"), as_version=4))
    assert {q["grade_id"]: q["points"] for q in rubric["questions"]} == {k: float(v) for k, v in written.items()}
    bare = [q["grade_id"] for q in rubric["questions"] if not q["criteria"]]
    for question in rubric["questions"]:
        if question["criteria"]:
            assert sum(c["points"] for c in question["criteria"]) == question["points"], question["grade_id"]
    if bare:
        pytest.skip(f"{name}: rubrics with no '- N points:' criteria, so reviewers get no form items: {bare}")
