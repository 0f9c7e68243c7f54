"""The course in a real browser: JupyterLab, nbgrader's extensions and the reader's edition, in Chromium.

Playwright for Python drives the system's Chromium (Debian's ``chromium``; Playwright cannot download its
own browsers here). One JupyterLab server, started here on 127.0.0.1 with a token, serves a small graded
course (tests/conftest.py) plus copies of a reference notebook and of a solved submission; one page is
reused across the steps. Each step saves a screenshot to tests/artifacts/browser/ (git-ignored).

Without Chromium or Playwright the whole module is skipped with the reason (shown by ``pytest -ra``).
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
ASSIGNMENT = "01_testing"
# Headless Chromium on a closed network: no background requests, no GPU, no sandbox as root.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (Debian: `apt-get install chromium`; "
                ".ci/run installs it)", allow_module_level=True)
try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError, expect, sync_playwright
except ImportError as exc:
    pytest.skip(f"browser tests skipped: Playwright for Python is not installed ({exc}); "
                "`pip install -e '.[course]'` installs it", allow_module_level=True)

# the lab's settings for the tests: no news prompt, every cell rendered (so every output is in the DOM)
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false", "checkForUpdates": false}',
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
}


def shot(page, name: str, **kwargs) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # two animation frames: an image that has just loaded is painted before the picture is taken
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.screenshot(path=str(path), **kwargs)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def course(small_graded_class, tmp_path_factory):
    """The graded course with an exchange (01_testing released), a reference notebook and a solved one."""
    from course_tools.notebooks.generate import nbgrader_environment

    course = small_graded_class
    exchange = tmp_path_factory.mktemp("exchange")
    exchange.chmod(0o777)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(f"\n# added by tests/test_browser.py: an exchange for the Assignment List\n"
                     f"c.Exchange.root = {str(exchange)!r}\n")
    released = subprocess.run([sys.executable, "-m", "nbgrader", "release_assignment", ASSIGNMENT, "--force"],
                              cwd=course, capture_output=True, text=True, timeout=300, env=nbgrader_environment())
    assert released.returncode == 0, released.stdout + released.stderr
    (course / "reference").mkdir(exist_ok=True)
    shutil.copy(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", course / "reference" / f"{ASSIGNMENT}.ipynb")
    (course / "solved").mkdir(exist_ok=True)
    shutil.copy(course / "submitted" / "perfect" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                course / "solved" / f"{ASSIGNMENT}.ipynb")
    return course


@pytest.fixture(scope="module")
def lab(course, tmp_path_factory):
    """A real JupyterLab server on 127.0.0.1 with a token, serving the course folder; yields its base URL."""
    from course_tools.notebooks.generate import nbgrader_environment

    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings"
    for name, text in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(text)
    env = nbgrader_environment()
    env.pop("MPLBACKEND", None)  # the kernel must draw inline figures, not Agg
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"))
    # the venv's own share/jupyter (kernelspec, lab and nbgrader extensions) stays on the path via sys.prefix
    port, token = _free_port(), secrets.token_hex(16)
    log = open(home / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
         "--ServerApp.open_browser=False", "--LabApp.news_url=None"],
        cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("JupyterLab did not start:\n" + (home / "server.log").read_text()[-3000:])
        time.sleep(0.5)
    yield {"base": base, "token": token, "course": course, "log": home / "server.log"}
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser, lab):
    """One JupyterLab page for every step."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{lab['base']}/lab?token={lab['token']}")
    page.wait_for_selector("#jp-main-dock-panel")
    page.wait_for_selector(".jp-DirListing-item")
    yield page
    context.close()


def _open_notebook(page, lab, path: str):
    # ?reset: a fresh workspace, so no notebook of an earlier test comes back in a tab beside this one
    # (two notebook panels, and `.jp-NotebookPanel:visible` or the Run menu could pick the other)
    page.goto(f"{lab['base']}/lab/tree/{path}?reset&token={lab['token']}")
    panel = page.locator(".jp-NotebookPanel:visible")
    expect(panel).to_have_count(1, timeout=90_000)
    expect(page.locator(".jp-NotebookPanel")).to_have_count(1)  # this notebook's, and no other open in a tab
    # the kernel is up when the toolbar's status says idle
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function("""() => {
        const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelStatus, '
          + '.jp-NotebookPanel:not(.lm-mod-hidden) [data-jp-item-name="kernelStatus"]');
        const bar = document.querySelector('.jp-StatusBar-TextItem[title*="Kernel"], #jp-main-statusbar');
        return bar && /Idle/i.test(bar.textContent);
    }""", timeout=120_000)
    return panel


def _menu(page, top: str, item: str):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def _run_all(page, panel):
    """Run > Run All Cells, and wait until one of ``panel``'s cells is queued or has run (a clear failure if not)."""
    _menu(page, "Run", "Run All Cells")
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt")
    deadline = time.monotonic() + 60
    while not any(re.search(r"\[(\*|\d+)\]", text) for text in prompts.all_inner_texts()):
        assert time.monotonic() < deadline, "Run All Cells ran none of this notebook's cells within 60 s"
        time.sleep(0.25)


# --------------------------------------------------------------------------- JupyterLab

def test_run_all_cells_of_a_reference_notebook(page, lab):
    panel = _open_notebook(page, lab, f"reference/{ASSIGNMENT}.ipynb")
    shot(page, "01_reference_opened")
    _run_all(page, panel)
    code_cells = panel.locator(".jp-CodeCell")
    total = code_cells.count()
    assert total > 20
    # every code cell ran: its prompt shows a number, none is queued or running
    page.wait_for_function("""(total) => {
        const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
        return prompts.length === total && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
    }""", arg=total, timeout=240_000)
    errors = panel.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
    assert errors.count() == 0, errors.first.inner_text()[:2000]
    figures = panel.locator(".jp-RenderedImage img")
    assert figures.count() >= 3, f"{figures.count()} figures rendered"
    widgets = panel.locator(".jupyter-widgets .widget-slider, .jupyter-widgets .widget-toggle-buttons")
    expect(widgets.first).to_be_visible()
    figures.first.scroll_into_view_if_needed()
    shot(page, "02_reference_ran_figure")


def test_a_widget_reacts_to_input(page):
    """The threshold explorer: choosing regime B draws a live view under the controls; the slider redraws it."""
    panel = page.locator(".jp-NotebookPanel:visible")
    toggles = panel.locator(".widget-toggle-buttons").first
    toggles.scroll_into_view_if_needed()
    box = toggles.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
    live = box.locator(".widget-output img, .jupyter-widgets-output-area img")
    assert live.count() == 0, "a live view before any input"
    shot(page, "03_widget_before")
    choose_b = toggles.get_by_role("button", name="B", exact=True)
    for attempt in range(3):  # on a loaded host a click can land before the view listens: click until B is chosen
        choose_b.click()
        try:
            expect(choose_b).to_have_class(re.compile(r"\bmod-active\b"), timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    expect(live.first).to_be_visible(timeout=60_000)
    first = live.first.get_attribute("src")
    page.wait_for_function("el => el.complete && el.naturalWidth > 100", arg=live.first.element_handle())
    live.first.scroll_into_view_if_needed()
    shot(page, "04_widget_after_regime_B")
    assert "mod-active" in toggles.get_by_role("button", name="B", exact=True).get_attribute("class")
    handle = box.locator(".widget-slider .noUi-handle, .widget-slider [role=slider]").first
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_function("([el, old]) => { const img = el.querySelector('.widget-output img, "
                           ".jupyter-widgets-output-area img'); return img && img.getAttribute('src') !== old; }",
                           arg=[box.element_handle(), first], timeout=60_000)
    expect(box.locator(".widget-readout").first).to_have_text(re.compile(r"0\.55"))
    shot(page, "05_widget_after_slider")


STUDY_NOTEBOOK = """A *Going further* study behind its button, as 03's are (nextword.opt_in_study)."""
STUDY_CELLS = [
    "import matplotlib.pyplot as plt\nfrom IPython.display import display\nfrom nextword import opt_in_study",
    "def drift_study():\n"
    "    print('seed  share after the drift')\n"
    "    fig, ax = plt.subplots(figsize=(4, 2))\n"
    "    ax.plot([0, 1, 2], [0.2, 0.5, 0.9])\n"
    "    display(fig)\n"
    "    plt.close(fig)\n"
    "\n"
    "opt_in_study(drift_study, 'a router through a drift', seconds=1)",
]


def test_a_study_runs_at_the_press_of_its_button_with_its_figure(page, lab):
    """A Run All only offers the study (its line and button, no table, no figure); the button runs it into the
    output area under it, the table and the inline figure included."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(STUDY_NOTEBOOK)]
                                  + [nbformat.v4.new_code_cell(source) for source in STUDY_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, str(lab["course"] / "reference" / "study.ipynb"))
    panel = _open_notebook(page, lab, "reference/study.ipynb")
    _run_all(page, panel)
    button = panel.get_by_role("button", name=re.compile(r"Run this study \(about 1 s\)"))
    try:
        expect(button).to_be_visible(timeout=120_000)
    except AssertionError:
        shot(page, "study_button_missing")
        prompts = [p.inner_text() for p in panel.locator(".jp-CodeCell .jp-InputPrompt").all()]
        outputs = [o.inner_text()[:300] for o in panel.locator(".jp-OutputArea-output").all()]
        raise AssertionError(f"no study button: prompts {prompts}, outputs {outputs}") from None
    expect(panel.locator(".jp-OutputArea-output", has_text="Study, not run yet (about 1 s): a router through a drift")
           ).to_have_count(1)
    assert panel.locator(".jp-RenderedImage img").count() == 0, "the study ran before its button was pressed"
    button.click()
    output = panel.locator(".widget-output, .jupyter-widgets-output-area")
    expect(output.locator("img").first).to_be_visible(timeout=60_000)
    page.wait_for_function("el => el.complete && el.naturalWidth > 100", arg=output.locator("img").first.element_handle())
    expect(output.first).to_contain_text("Running: a router through a drift")
    expect(output.first).to_contain_text("seed  share after the drift")
    expect(output.first).to_contain_text("Done in")
    expect(button).to_be_enabled()
    output.first.scroll_into_view_if_needed()
    shot(page, "study_ran_after_its_button")


def test_validate_button_passes_a_solved_notebook(page, lab):
    # on a loaded machine the toolbar can lay itself out again while the notebook settles, and the button
    # found a moment ago stops being visible: open the notebook again and take the button anew (3 tries)
    for attempt in range(3):
        _open_notebook(page, lab, f"solved/{ASSIGNMENT}.ipynb")
        button = page.locator(".jp-NotebookPanel:visible .jp-Toolbar").get_by_role("button", name=re.compile("Validate"))
        expect(button).to_be_visible()
        try:
            button.click(timeout=20_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results", timeout=240_000)
    shot(page, "06_validate_solved")
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    dialog.get_by_role("button", name=re.compile("Ok", re.I)).click()


# --------------------------------------------------------------------------- nbgrader

def test_assignment_list_shows_the_released_assignment_and_fetches_it(page, lab):
    _menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list")
    expect(released).to_contain_text(ASSIGNMENT, timeout=60_000)
    shot(page, "07_assignment_list")
    panel = page.locator(".jp-AssignmentList, #assignment-list").first
    assert "Error" not in page.locator("#released_assignments_list").inner_text()
    released.get_by_role("button", name="Fetch").click()
    expect(page.locator("#fetched_assignments_list")).to_contain_text(ASSIGNMENT, timeout=60_000)
    shot(page, "08_assignment_list_fetched")
    assert (lab["course"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists(), "Fetch wrote no notebook"
    assert panel is not None


def test_formgrader_saves_a_manual_grade(page, lab):
    from nbgrader.api import Gradebook

    _menu(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("iframe").first
    expect(frame.locator("body")).to_contain_text("Manage Assignments", timeout=60_000)
    expect(frame.locator("body")).to_contain_text(ASSIGNMENT)
    shot(page, "09_formgrader")

    db = f"sqlite:///{lab['course'] / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "partial")
        submission_id = notebook.id
        before = {g.name: g.manual_score for g in notebook.grades}
    assert before["testing_across_modalities"] is None
    tab = page.context.new_page()
    # formgrader's page takes ?token=, but its API calls do not carry it: send the token with every request
    tab.set_extra_http_headers({"Authorization": f"token {lab['token']}"})
    api_calls: list[str] = []
    tab.on("response", lambda r: api_calls.append(f"{r.request.method} {r.status} {r.url}") if "/api/" in r.url else None)
    try:
        tab.goto(f"{lab['base']}/formgrader/submissions/{submission_id}/?token={lab['token']}")
        score = tab.locator("input.score#testing_across_modalities")
        expect(score).to_be_visible()
        tab.wait_for_load_state("networkidle")  # the grade models are fetched and bound to the inputs
        score.click()
        score.press_sequentially("2")
        try:
            with tab.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                                     timeout=30_000) as put:
                score.press("Tab")  # formgrader: moves to the next input and saves this one
        except Exception:
            pytest.fail(f"no grade saved; formgrader's API calls: {api_calls}")
        assert put.value.ok, f"{api_calls}: saving the grade failed: {put.value.status} {put.value.text()[:500]}\n" + \
            lab["log"].read_text()[-2000:]
        comment = tab.locator("textarea#testing_across_modalities-comment")
        comment.click()
        comment.fill("Edge cases per modality, nothing on slices.")
        with tab.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT"):
            comment.press("Tab")
        deadline = time.monotonic() + 60
        while True:
            with Gradebook(db) as gradebook:
                grade = gradebook.find_grade("testing_across_modalities", ASSIGNMENT, ASSIGNMENT, "partial")
                saved = grade.manual_score
            if saved == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        score.scroll_into_view_if_needed()
        shot(tab, "10_formgrader_manual_grade")
        assert saved == 2, f"the manual grade was not saved (gradebook says {saved})"
        tab.reload()
        expect(tab.locator("input.score#testing_across_modalities")).to_have_value("2")
        expect(tab.locator("textarea#testing_across_modalities-comment")).to_have_value(
            "Edge cases per modality, nothing on slices.")
        tab.locator("input.score#testing_across_modalities").scroll_into_view_if_needed()
        shot(tab, "11_formgrader_after_reload")
    finally:
        tab.close()


# --------------------------------------------------------------------------- offline pages

def _offline_page(browser):
    """A page with the network cut: anything but file:// and data: is aborted and recorded."""
    context = browser.new_context(offline=True, viewport={"width": 1300, "height": 950})
    context.set_default_timeout(60_000)
    remote: list[str] = []

    def block(route):
        remote.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(https?|wss?|ftp):"), block)
    return context, context.new_page(), remote


def test_reader_edition_renders_math_and_widgets_offline(browser):
    context, page, remote = _offline_page(browser)
    try:
        page.goto((ROOT / "notebooks" / f"{ASSIGNMENT}.html").as_uri())
        page.wait_for_selector("mjx-container svg")
        page.wait_for_selector(".widget-slider")
        assert page.evaluate("MathJax.version") == "3.2.2"
        banner = page.locator("#reader-edition-banner")
        expect(banner).to_contain_text("Instructors' edition")
        shot(page, "12_reader_edition_top")
        math = page.locator("mjx-container").first
        math.scroll_into_view_if_needed()
        shot(page, "13_reader_edition_math")
        # no TeX left raw in the prose: every $...$ became a typeset formula
        prose = " ".join(page.locator(".jp-MarkdownOutput").all_inner_texts())
        assert not re.search(r"\$[^$\s][^$]*\$", prose), "raw TeX left on the page"
        slider = page.locator(".widget-slider").first
        slider.scroll_into_view_if_needed()
        expect(slider).to_be_visible()
        expect(page.locator(".widget-toggle-buttons").first).to_be_visible()
        shot(page, "14_reader_edition_widgets")
        assert remote == [], f"the page reached for the network: {remote}"
    finally:
        context.close()


def test_peer_review_packet_renders_offline(browser, small_graded_class, tmp_path):
    from course_tools.publish import peer_review

    folder = peer_review.build(ASSIGNMENT, small_graded_class, k=2, seed=0, out=tmp_path / "review", progress=None)
    packet = sorted((folder / "packets").glob("*.html"))[0]
    context, page, remote = _offline_page(browser)
    try:
        page.goto(packet.as_uri())
        expect(page.locator("#reader-edition-banner")).to_contain_text("anonymous")
        expect(page.locator("h1").first).to_contain_text("Peer review packet")
        shot(page, "15_peer_review_packet_top")
        # 01's figures are drawn after its first hidden tests, so the judge hides them (issue 17.4): the
        # packet then shows its note in their place; a figure drawn before them must render offline
        images = page.locator(".jp-RenderedImage img")
        if images.count():
            images.first.scroll_into_view_if_needed()
            expect(images.first).to_be_visible()
            assert page.evaluate("document.querySelector('.jp-RenderedImage img').naturalWidth") > 100
        else:
            note = page.get_by_text("output hidden: produced after hidden tests ran").first
            note.scroll_into_view_if_needed()
            expect(note).to_be_visible()
        page.get_by_text("written answer").first.scroll_into_view_if_needed()
        shot(page, "16_peer_review_packet_written_answer")
        assert remote == []
    finally:
        context.close()
