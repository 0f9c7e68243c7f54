"""The course on JupyterHub: system accounts, one shared grader account running formgrader, the exchange.

As root, from the course folder (the repository):

    sudo .venv/bin/python -m course_tools.hub setup --instructor ivy        # once (accounts, environment, course)
    sudo .venv/bin/python -m course_tools.hub roster students.csv           # students: accounts + gradebook
    sudo .venv/bin/python -m course_tools.hub roster graders.csv --graders  # graders: accounts + formgrader group
    sudo .venv/bin/python -m course_tools.hub start                         # JupyterHub on 127.0.0.1:8000 (make hub)
    sudo .venv/bin/python -m course_tools.hub release 01_testing            # students: Assignment List → Fetch
    sudo .venv/bin/python -m course_tools.hub collect 01_testing
    sudo .venv/bin/python -m course_tools.hub grade 01_testing -j 2         # the trusted pipeline
    sudo .venv/bin/python -m course_tools.hub feedback 01_testing           # generate + release feedback
    sudo .venv/bin/python -m course_tools.hub export --to lms_grades.csv    # for the LMS (course_tools.publish.lms_export)
    sudo .venv/bin/python -m course_tools.hub share-reviews 01_testing      # peer review: ~/peer_review/01_testing/
    sudo .venv/bin/python -m course_tools.hub collect-reviews 01_testing    # the filled forms back, summarized

The layout, in the manner of nbgrader's ``demo_one_class_multiple_graders``:

* **The hub** (``deploy/hub/jupyterhub_config.py``) runs as root from this venv, with PAM (system
  accounts) and ``LocalProcessSpawner``, and configurable-http-proxy from npm installed in
  ``deploy/hub/node_modules``. Its settings (ports, accounts, folders) are one JSON file,
  ``<state>/hub.json``, written by ``setup`` and ``roster``; the config file reads it.
* **The course folder** belongs to a shared **grader account** (``course-grader``), mode 700: source
  notebooks, hidden tests and the gradebook are out of every student's reach. That account runs
  formgrader as the hub service named after the course id; the hub group ``formgrade-<course>``
  (the instructor and the graders) may reach it, nobody else. Every course command (release, collect,
  grade, feedback, export) runs as that account, so the files it writes stay its own.
* **Students** (hub group ``nbgrader-<course>``) get their own JupyterLab, started by the hub in their
  home (mode 700) with the **student environment** (``course_tools.publish.exchange.student_env``: nbgrader,
  JupyterLab, ``nextword``, no ``course_tools``; the Assignment List and Validate, no formgrader).
* **The grader account** uses the same environment plus ``course_tools``, which lives beside it
  (``<environment>-tools``, on ``PYTHONPATH`` for the grader only), so the sandbox that runs student
  code, which sees the environment, never sees the instructor tooling.
* **The exchange**: ``/srv/nbgrader/exchange`` (``--exchange``), mode 1777, as for a class without a hub.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .publish import exchange

REPOSITORY = Path(__file__).resolve().parents[2]
HUB_FOLDER = REPOSITORY / "deploy" / "hub"
CONFIG_FILE = HUB_FOLDER / "jupyterhub_config.py"
PROXY = HUB_FOLDER / "node_modules" / ".bin" / "configurable-http-proxy"
SETTINGS_VARIABLE = "COURSE_HUB_SETTINGS"
DEFAULT_STATE = "/srv/nextword-hub"
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id")
TOOLS = ("course_tools", "nextword", "course_sandbox")  # what the grader imports from <environment>-tools


@dataclasses.dataclass
class HubSettings:
    """Everything the hub's config file and the course commands need; saved as ``<state>/hub.json``."""

    state: str                       # the hub's own files: hub.json, jupyterhub.sqlite, cookie secret, logs
    exchange: str                    # nbgrader's exchange folder
    environment: str                 # the student environment (its bin/python, bin/jupyterhub-singleuser)
    course: str                      # the course folder, owned by the grader account
    course_id: str
    instructor: str
    grader_account: str = "course-grader"
    graders: list[str] = dataclasses.field(default_factory=list)
    students: list[str] = dataclasses.field(default_factory=list)
    ip: str = "127.0.0.1"
    port: int = 8000                 # what users open: http://ip:port/
    hub_port: int = 8081
    proxy_api_port: int = 8001
    formgrader_port: int = 9999
    cull_idle_seconds: int = 3600    # jupyterhub-idle-culler stops a server idle this long
    mem_limit: str = "2G"            # per user; LocalProcessSpawner only passes these on (see docs/hub.md)
    cpu_limit: float = 1.0
    proxy: str = str(PROXY)
    hub_python: str = sys.executable

    @property
    def settings_file(self) -> Path:
        return Path(self.state) / "hub.json"

    @property
    def tools(self) -> Path:
        return Path(self.environment + "-tools")

    @property
    def bin(self) -> Path:
        return Path(self.environment) / "bin"

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    def save(self) -> Path:
        Path(self.state).mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o700)  # the hub's database and cookie secret
        self.settings_file.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n", encoding="utf-8")
        return self.settings_file

    @classmethod
    def load(cls, state: str | Path | None = None) -> "HubSettings":
        path = Path(state or os.environ.get(SETTINGS_VARIABLE) or DEFAULT_STATE)
        path = path if path.suffix == ".json" else path / "hub.json"
        if not path.is_file():
            raise SystemExit(f"no hub set up at {path}: run `sudo .venv/bin/python -m course_tools.hub setup "
                             "--instructor NAME` first (docs/hub.md)")
        return cls(**json.loads(path.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ accounts


def account_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def create_account(user: str, password: str | None = None) -> pwd.struct_passwd:
    """A system account with a private home (mode 700); with ``password``, PAM lets it log in."""
    if not account_exists(user):
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True, capture_output=True)
    account = pwd.getpwnam(user)
    os.chmod(account.pw_dir, 0o700)
    if password is not None:
        subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True, capture_output=True)
    return account


def remove_account(user: str) -> None:
    if account_exists(user):
        subprocess.run(["userdel", "--remove", "--force", user], capture_output=True)


def _chown_tree(path: Path, account: pwd.struct_passwd) -> None:
    for item in [path, *path.rglob("*")]:
        os.chown(item, account.pw_uid, account.pw_gid, follow_symlinks=False)


# ------------------------------------------------------------------ setting up


def install_proxy(folder: Path = HUB_FOLDER) -> Path:
    """configurable-http-proxy from npm into ``folder/node_modules`` (the version pinned by its package.json)."""
    proxy = folder / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm not found: JupyterHub's proxy is a Node.js program "
                             "(Debian: apt-get install nodejs npm; .ci/run installs them)")
        subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error"],
                       check=True)
    return proxy


def install_tools(dest: Path, source: Path = REPOSITORY / "src") -> Path:
    """A root-owned, world-readable copy of course_tools and the student-side packages for the grader account."""
    if dest.exists():
        shutil.rmtree(dest)
    for name in TOOLS:
        shutil.copytree(source / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [dest, *dest.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return dest


def grader_jupyter_config(home: Path, course: Path) -> None:
    """The grader account's ~/.jupyter: formgrader and the assignment creator on, the course folder's root."""
    config = home / ".jupyter"
    (config / "jupyter_server_config.d").mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.d" / "nbgrader.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
        "nbgrader.server_extensions.formgrader": True, "nbgrader.server_extensions.validate_assignment": True,
        "nbgrader.server_extensions.assignment_list": False, "nbgrader.server_extensions.course_list": False}}},
        indent=2) + "\n", encoding="utf-8")
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        "@jupyter/nbgrader:formgrader": False, "@jupyter/nbgrader:create-assignment": False,
        "@jupyter/nbgrader:assignment-list": True, "@jupyter/nbgrader:course-list": True}}, indent=2) + "\n",
        encoding="utf-8")
    # formgrader opens in an iframe of JupyterLab, served by the same origin (as nbgrader's demos set it)
    (config / "jupyter_server_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': \"frame-ancestors 'self'\"}}\n"
        f"c.ServerApp.root_dir = {str(course)!r}\n", encoding="utf-8")
    (config / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}\n", encoding="utf-8")


def setup(settings: HubSettings, assignments: list[str] | None = None, root: Path = REPOSITORY) -> HubSettings:
    """Everything the hub needs, as root: proxy, exchange, environment, grader account and course folder."""
    from concurrent.futures import ThreadPoolExecutor

    from .demo import sample_class

    install_proxy(Path(settings.proxy).parents[2])
    exchange.setup(settings.exchange)
    course = Path(settings.course)
    with ThreadPoolExecutor(2) as pool:  # both mostly wait on files and subprocesses
        environment = pool.submit(exchange.student_env, settings.environment, settings.exchange, settings.course_id)
        if not (course / "gradebook.db").exists():
            # the course folder: manifest, config, source/ and the generated release/ (as `make generate` does)
            sample_class.make_course(course, root, assignments, progress=print)
        environment.result()
    install_tools(settings.tools)
    grader = create_account(settings.grader_account)
    os.chmod(course, 0o700)
    grader_jupyter_config(Path(grader.pw_dir), course)
    grader_tmp(grader)
    _chown_tree(Path(grader.pw_dir), grader)
    _chown_tree(course, grader)
    settings.save()
    return settings


def read_roster(path: str | Path) -> list[dict[str, str]]:
    """The rows of a roster CSV in ``nbgrader db student import`` format (id, first_name, last_name, email, lms_user_id)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "id" not in rows[0]:
        raise SystemExit(f"{path}: the roster needs an `id` column (the login name); columns: {', '.join(ROSTER_COLUMNS)}")
    for row in rows:
        if not row["id"] or not row["id"].replace("_", "").replace("-", "").isalnum():
            raise SystemExit(f"{path}: {row['id']!r} is not a valid account name")
    return rows


def add_roster(settings: HubSettings, path: str | Path, graders: bool = False,
               passwords: dict[str, str] | None = None) -> list[str]:
    """Accounts for everybody on the roster; graders join the formgrader group, students the gradebook."""
    rows = read_roster(path)
    for row in rows:
        create_account(row["id"], (passwords or {}).get(row["id"]))
    ids = [row["id"] for row in rows]
    group = settings.graders if graders else settings.students
    group.extend(i for i in ids if i not in group)
    if not graders:
        # names, emails and LMS ids into the gradebook (formgrader shows "None, None" without them)
        copy = Path(pwd.getpwnam(settings.grader_account).pw_dir) / "roster.csv"
        shutil.copy(path, copy)
        os.chown(copy, pwd.getpwnam(settings.grader_account).pw_uid, pwd.getpwnam(settings.grader_account).pw_gid)
        as_grader(settings, ["nbgrader", "db", "student", "import", str(copy)])
    settings.save()
    return ids


# ------------------------------------------------------------------ the course commands, as the grader account


def grader_tmp(account: pwd.struct_passwd) -> str:
    """The grader account's own temporary folder: files the tools keep in a fixed place under /tmp
    (e.g. the grading workers' log) may already exist there, owned by another account."""
    path = Path(account.pw_dir) / ".cache" / "tmp"
    if not path.is_dir():
        path.mkdir(parents=True, mode=0o700)
        for item in (path.parent, path):
            os.chown(item, account.pw_uid, account.pw_gid)
    return str(path)


def grader_environment(settings: HubSettings) -> dict[str, str]:
    account = pwd.getpwnam(settings.grader_account)
    return {"HOME": account.pw_dir, "USER": account.pw_name, "LOGNAME": account.pw_name, "LANG": "C.UTF-8",
            "PATH": f"{settings.bin}:/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(settings.tools),
            exchange.ENVIRONMENT_VARIABLE: settings.exchange, "TMPDIR": grader_tmp(account),
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def as_grader(settings: HubSettings, argv: list[str], check: bool = True,
              capture: bool = False) -> subprocess.CompletedProcess:
    """Run ``argv`` (``nbgrader ...`` or ``python ...``, from the environment) as the grader account, in the course folder."""
    account = pwd.getpwnam(settings.grader_account)
    program = str(settings.bin / argv[0]) if (settings.bin / argv[0]).exists() else argv[0]
    switch = {} if os.geteuid() == account.pw_uid else {"user": account.pw_uid, "group": account.pw_gid,
                                                         "extra_groups": []}
    done = subprocess.run([program, *argv[1:]], cwd=settings.course, env=grader_environment(settings),
                          capture_output=capture, text=True, **switch)
    if check and done.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` as {settings.grader_account} failed (exit {done.returncode})"
                         + (f":\n{done.stdout}{done.stderr}" if capture else ""))
    return done


def course_command(settings: HubSettings, verb: str, assignment: str | None, workers: int = 2,
                   to: str | None = None, capture: bool = False) -> list[subprocess.CompletedProcess]:
    """release, collect, grade, feedback or export, run by the grader account."""
    python = "python"
    steps = {
        "release": [["nbgrader", "release_assignment", assignment]],
        "collect": [["nbgrader", "collect", "--update", assignment]],
        "grade": [[python, "-m", "course_tools.autograde", assignment, "-j", str(workers)]],
        "feedback": [[python, "-m", "course_tools.feedback", assignment],
                     ["nbgrader", "release_feedback", assignment]],
        "build-reviews": [[python, "-m", "course_tools.publish.peer_review", assignment]],
        "summarize-reviews": [[python, "-m", "course_tools.publish.peer_review", "collect", assignment]],
        "export": [["nbgrader", "export", "--exporter=course_tools.publish.lms_export.LmsExportPlugin",
                    f"--to={to or 'lms_grades.csv'}"]],
    }[verb]
    return [as_grader(settings, [part for part in step if part is not None], capture=capture) for step in steps]


# ------------------------------------------------------------------ peer review through the students' homes

REVIEW_FOLDER = "peer_review"      # in each reviewer's home: ~/peer_review/<assignment>/
MAX_FORM_BYTES = 256 * 1024


def share_reviews(settings: HubSettings, assignment: str) -> dict[str, int]:
    """Copy each reviewer's forms, and the packets they name, into ``~reviewer/peer_review/<assignment>/`` (root).

    ``python -m course_tools.publish.peer_review`` (as the grader account) wrote ``peer_review/<assignment>/`` in
    the course folder; the course folder is the grader's (mode 700) and every home is its owner's (700),
    so root carries the files across: each student sees exactly their own forms and packets.
    """
    built = Path(settings.course) / REVIEW_FOLDER / assignment
    shared = {}
    for forms in sorted((built / "forms").iterdir()):
        account = pwd.getpwnam(forms.name)
        dest = Path(account.pw_dir) / REVIEW_FOLDER / assignment
        dest.mkdir(parents=True, exist_ok=True)
        for form in sorted(forms.glob("*.json")):
            shutil.copy(form, dest / form.name)
            shutil.copy(built / "packets" / f"{form.stem}.html", dest / f"{form.stem}.html")
        if (built / "packets" / "_static").is_dir():
            shutil.copytree(built / "packets" / "_static", dest / "_static", dirs_exist_ok=True)
        _chown_tree(Path(account.pw_dir) / REVIEW_FOLDER, account)
        shared[forms.name] = len(list(forms.glob("*.json")))
    return shared


def collect_reviews(settings: HubSettings, assignment: str) -> dict[str, int]:
    """Copy the filled forms back from the reviewers' homes into the course folder (root).

    Only the forms that were handed out are read, as regular files (never through a symlink a student
    planted) of bounded size; anything else in the student's folder is ignored.
    """
    built = Path(settings.course) / REVIEW_FOLDER / assignment
    grader = pwd.getpwnam(settings.grader_account)
    collected = {}
    for forms in sorted((built / "forms").iterdir()):
        home = Path(pwd.getpwnam(forms.name).pw_dir) / REVIEW_FOLDER / assignment
        count = 0
        for form in sorted(forms.glob("*.json")):
            try:
                fd = os.open(home / form.name, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue  # not returned (or a symlink)
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    continue
                data = handle.read(MAX_FORM_BYTES + 1)
            if len(data) > MAX_FORM_BYTES:
                continue
            form.write_bytes(data)
            os.chown(form, grader.pw_uid, grader.pw_gid)
            count += 1
        collected[forms.name] = count
    return collected


# ------------------------------------------------------------------ running the hub


def hub_environment(settings: HubSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env[SETTINGS_VARIABLE] = str(settings.settings_file)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def start(settings: HubSettings, log: Path | None = None) -> subprocess.Popen:
    """JupyterHub (and through it the proxy, formgrader and the idle culler) in a new process group."""
    output = open(log, "ab") if log else None
    process = subprocess.Popen([settings.hub_python, "-m", "jupyterhub", "-f", str(CONFIG_FILE)], cwd=settings.state,
                               env=hub_environment(settings), stdout=output, stderr=subprocess.STDOUT if output else None,
                               start_new_session=True)
    # what the hub starts (the proxy, the services) carries this in its environment, also in a session of its own
    process.hub_mark = f"{SETTINGS_VARIABLE}={settings.settings_file}".encode()
    return process


def wait_until_up(settings: HubSettings, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterHub exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{settings.url}/hub/api/", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterHub did not answer on {settings.url} within {timeout:.0f} s")


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM to the hub (it stops the users' servers, its services and the proxy), then its whole group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    # anything the hub started that outlived it: its group, and what runs in a session of its own (JupyterHub
    # starts the proxy so) but carries the hub's mark, as the proxy and the services of a hub stopped under load
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in marked_processes(getattr(process, "hub_mark", None)):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    process.wait()


def marked_processes(mark: bytes | None) -> list[int]:
    """The processes whose environment holds the entry ``mark`` (``NAME=value``), read from /proc."""
    if not mark:
        return []
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            entries = environ.read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if mark in entries and int(environ.parent.name) != os.getpid():
            found.append(int(environ.parent.name))
    return found


# ------------------------------------------------------------------ command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", default=None, help=f"the hub's folder (default ${SETTINGS_VARIABLE} or {DEFAULT_STATE})")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("setup", help="proxy, exchange, environment, grader account, course folder (root)")
    make.add_argument("--instructor", required=True, help="the instructor's account (hub admin, formgrader)")
    make.add_argument("--exchange", default=exchange.exchange_root())
    make.add_argument("--environment", default="/opt/nextword-course/python")
    make.add_argument("--grader-account", default="course-grader")
    make.add_argument("--course", default=None, help="the course folder (default: ~GRADER/<course id>)")
    make.add_argument("--port", type=int, default=8000)
    make.add_argument("--assignments", nargs="*", default=None)
    roster = commands.add_parser("roster", help="accounts and gradebook entries from a roster CSV (root)")
    roster.add_argument("csv")
    roster.add_argument("--graders", action="store_true", help="the roster lists graders, not students")
    commands.add_parser("start", help="run JupyterHub in the foreground (root)")
    for verb in ("release", "collect", "grade", "feedback"):
        sub = commands.add_parser(verb, help=f"{verb} an assignment, as the grader account")
        sub.add_argument("assignment")
        if verb == "grade":
            sub.add_argument("-j", "--workers", type=int, default=2)
    for verb, what in (("share-reviews", "build peer-review packets and forms, copy each reviewer's into their home (root)"),
                       ("collect-reviews", "copy the filled forms back into the course folder and summarize (root)")):
        commands.add_parser(verb, help=what).add_argument("assignment")
    export = commands.add_parser("export", help="grades for an LMS (one column per assignment), as the grader account")
    export.add_argument("--to", default="lms_grades.csv")
    args = parser.parse_args(argv)
    state = args.state or os.environ.get(SETTINGS_VARIABLE) or DEFAULT_STATE
    if args.command == "setup":
        from .grading.gradebook import course_id

        if os.geteuid() != 0:
            raise SystemExit("setup creates system accounts: run it as root (sudo)")
        cid = course_id(REPOSITORY)
        grader_home = Path("/home") / args.grader_account
        settings = HubSettings(state=str(Path(state).resolve()), exchange=args.exchange, environment=args.environment,
                               course=args.course or str(grader_home / cid), course_id=cid, instructor=args.instructor,
                               grader_account=args.grader_account, port=args.port)
        create_account(args.instructor)
        setup(settings, args.assignments)
        print(f"hub set up in {settings.state}; `passwd {args.instructor}`, add the roster, then "
              "`sudo .venv/bin/python -m course_tools.hub start` (make hub)")
        return 0
    settings = HubSettings.load(state)
    if args.command == "roster":
        ids = add_roster(settings, args.csv, graders=args.graders)
        print(f"{len(ids)} {'graders' if args.graders else 'students'} added; restart the hub to let them in")
    elif args.command == "start":
        os.chdir(settings.state)
        os.execve(settings.hub_python, [settings.hub_python, "-m", "jupyterhub", "-f", str(CONFIG_FILE)],
                  hub_environment(settings))
    elif args.command == "share-reviews":
        course_command(settings, "build-reviews", args.assignment)
        print(f"forms shared: {share_reviews(settings, args.assignment)}")
    elif args.command == "collect-reviews":
        print(f"forms returned: {collect_reviews(settings, args.assignment)}")
        course_command(settings, "summarize-reviews", args.assignment)
    elif args.command == "export":
        course_command(settings, "export", None, to=args.to)
    else:
        course_command(settings, args.command, args.assignment, workers=getattr(args, "workers", 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
