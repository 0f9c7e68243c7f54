"""The nbgrader exchange of this course: the folder through which students fetch and hand in work.

    sudo .venv/bin/python -m course_tools.publish.exchange setup                      # /srv/nbgrader/exchange, mode 1777
    sudo .venv/bin/python -m course_tools.publish.exchange setup --root /srv/ex       # somewhere else
    .venv/bin/python -m course_tools.publish.exchange student-config                  # what students' nbgrader must read
    sudo .venv/bin/python -m course_tools.publish.exchange student-env /opt/nextword-course/python

``--root`` here is the exchange folder (``course exchange`` calls it ``--exchange-root``); the course
folder, whose course id and assignments the students' configuration names, is ``--course-root``
(default: the working directory's course).

nbgrader's exchange is a plain folder (``c.Exchange.root``) that every account can reach:
the instructor's ``nbgrader release_assignment`` writes ``<root>/<course>/outbound/``,
a student's ``nbgrader submit`` writes ``<root>/<course>/inbound/<student>+<assignment>+<timestamp>+<random>/``
(owned by that student, who is named by the OS account that ran ``submit``), ``nbgrader collect``
copies the latest submission of each student into ``submitted/``, and ``release_feedback`` /
``fetch_feedback`` go through ``<root>/<course>/feedback/``. nbgrader gives ``inbound/`` mode 733,
so students can write their own submission but cannot list anybody else's.

* One machine: the exchange is a local folder, ``/srv/nbgrader/exchange`` (nbgrader's default),
  created once by root with ``setup`` (mode 1777, as nbgrader wants it world-writable).
* JupyterHub: put the same folder on storage mounted at the same path in the instructor's and every
  student's server (NFS or a shared volume), and put ``student-config``'s two lines in the students'
  system-wide ``/etc/jupyter/nbgrader_config.py`` (or the shared environment's ``etc/jupyter/``).

Students need nbgrader installed, and on a class machine their accounts cannot enter the instructor's
home (where pyenv or a per-user venv lives). ``student-env`` builds what a class server has: a
world-readable environment on the system's Python holding this course's packages (nbgrader,
JupyterLab, the ``nextword`` library, not ``course_tools``), with the course's student config in its
``etc/jupyter/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

DEFAULT_ROOT = "/srv/nbgrader/exchange"
ENVIRONMENT_VARIABLE = "NBGRADER_EXCHANGE"


def exchange_root() -> str:
    """Where the course's exchange lives: ``$NBGRADER_EXCHANGE``, else nbgrader's default ``/srv/nbgrader/exchange``."""
    return os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_ROOT


def course_id(root: Path | None = None) -> str:
    """The course id of the course at ``root`` (default: the working directory's course), as nbgrader reads it."""
    from ..course import course_root
    from ..grading.gradebook import course_id as configured_course_id

    return configured_course_id(root or course_root())


def first_assignment(root: Path | None = None) -> str:
    """The first assignment of the course at ``root`` (default: the working directory's course), as its manifest lists them."""
    from ..course import course_root, load

    return load(root or course_root()).names[0]


def setup(root: str | Path) -> Path:
    """Create the exchange folder, world-writable with the sticky bit (1777), as nbgrader expects it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o777 | stat.S_ISVTX)
    return root


def student_config(exchange: str | Path, course: str | None = None) -> str:
    """The nbgrader configuration a student account needs: the course id and where the exchange is."""
    return ("# nbgrader for students of this course (fetch_assignment, submit, fetch_feedback, Assignment List)\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {course or course_id()!r}\n"
            f"c.Exchange.root = {str(exchange)!r}\n")


def system_python(version: tuple[int, int] = sys.version_info[:2]) -> Path | None:
    """The system's interpreter of this Python version (every account can run it), or None."""
    for candidate in (f"/usr/bin/python{version[0]}.{version[1]}", f"/usr/local/bin/python{version[0]}.{version[1]}"):
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK) and not str(path.resolve()).startswith(str(Path.home())):
            return path
    return None


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link a file every account may already read and nobody else may write; copy anything else."""
    mode = os.stat(src).st_mode
    if mode & stat.S_IROTH and not mode & (stat.S_IWGRP | stat.S_IWOTH):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)


_INCOMPATIBLE = """
import sys
from importlib.metadata import distributions
from packaging.specifiers import SpecifierSet
version = ".".join(map(str, sys.version_info[:3]))
for dist in distributions():
    needs = dist.metadata.get("Requires-Python")
    if needs and version not in SpecifierSet(needs):
        print(dist.metadata["Name"])
"""


def fit_environment_to_interpreter(environment: str | Path) -> list[str]:
    """Reinstall the packages of ``environment`` whose ``Requires-Python`` its interpreter does not meet.

    The student environment holds the venv's packages on the system's Python, the same minor version but
    maybe an older patch release (Debian 12: 3.11.2), and a package may need a newer one (soupsieve 4.1
    needs 3.11.5: its patterns use possessive quantifiers; on 3.11.2 every nbconvert HTML export, hence
    formgrader's submission view and feedback, fails). pip, run by that interpreter, picks the newest
    release that supports it; the hard-linked originals in the venv are unlinked, never changed.
    """
    python = Path(environment) / "bin" / "python"
    names = subprocess.run([str(python), "-c", _INCOMPATIBLE], capture_output=True, text=True, check=True).stdout.split()
    if names:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                        "--disable-pip-version-check", *names], check=True)
        for path in Path(environment).rglob("*"):  # world-readable, as the rest of the environment
            if not path.is_symlink():
                os.chmod(path, path.stat().st_mode | (0o755 if path.is_dir() else 0o444))
    return names


def student_env(dest: str | Path, exchange: str | Path, course: str | None = None,
                packages_from: str | Path | None = None) -> Path:
    """A world-readable environment for student accounts; returns its ``bin/python``.

    A venv on the system's Python (same minor version), holding the packages of this environment
    (``packages_from``, default the running venv's site-packages; hard-linked when on the same file
    system, else copied; files stay root-owned and read-only to students) minus the editable install
    of this course, so ``course_tools`` is not there. ``etc/jupyter/nbgrader_config.py`` in it holds
    ``student_config``: every nbgrader command run with this Python finds the course and the exchange.
    Packages whose ``Requires-Python`` the system's patch release does not meet are refitted
    (``fit_environment_to_interpreter``).
    """
    base = system_python()
    if base is None:
        raise RuntimeError(f"no system python{sys.version_info[0]}.{sys.version_info[1]} that every account can run "
                           "(e.g. `apt-get install python3`): student accounts cannot use an interpreter "
                           "under the instructor's home")
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(dest)], check=True)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = dest / "lib" / version / "site-packages"
    shutil.rmtree(site)
    source = Path(packages_from) if packages_from else Path(sys.prefix) / "lib" / version / "site-packages"
    shutil.copytree(source, site, copy_function=_link_or_copy, symlinks=True,
                    ignore=shutil.ignore_patterns("__editable__*", "nextword_course-*", "_nextword_course*"))
    # nextword, without the instructor tooling that shares its source folder
    import nextword

    shutil.copytree(Path(nextword.__file__).parent, site / "nextword", ignore=shutil.ignore_patterns("__pycache__"))
    # JupyterLab's application, the extensions (nbgrader's Assignment List) and the kernel spec
    prefix = source.parents[2]
    for folder in ("share/jupyter", "etc/jupyter"):
        if (prefix / folder).is_dir():
            shutil.copytree(prefix / folder, dest / folder, copy_function=_link_or_copy, symlinks=True,
                            dirs_exist_ok=True)
    # the console scripts (jupyter, jupyter-lab, nbgrader, ...), pointed at this environment's Python
    python = dest / "bin" / "python"
    for script in sorted((prefix / "bin").iterdir()) if (prefix / "bin").is_dir() else []:
        if not script.is_file() or script.is_symlink() or (dest / "bin" / script.name).exists():
            continue
        head = script.read_bytes()[:200]
        if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
            body = script.read_bytes().split(b"\n", 1)[1]
            (dest / "bin" / script.name).write_bytes(b"#!" + str(python).encode() + b"\n" + body)
            os.chmod(dest / "bin" / script.name, 0o755)
    for kernel in sorted((dest / "share" / "jupyter" / "kernels").glob("*/kernel.json")):
        spec = json.loads(kernel.read_text(encoding="utf-8"))
        if spec.get("argv") and "python" in Path(spec["argv"][0]).name:
            spec["argv"][0] = str(python)  # the instructor's interpreter is out of the students' reach
            kernel.unlink()
            kernel.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    config_dir = dest / "etc" / "jupyter"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "nbgrader_config.py").write_text(student_config(exchange, course), encoding="utf-8")
    # students get the Assignment List and Validate, not formgrader or the assignment creator
    server = config_dir / "jupyter_server_config.d" / "nbgrader.json"
    server.parent.mkdir(parents=True, exist_ok=True)
    server.unlink(missing_ok=True)  # a hard link to the instructor's file: replace it, never edit it
    server.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
        "nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.validate_assignment": True,
        "nbgrader.server_extensions.assignment_list": True, "nbgrader.server_extensions.course_list": False}}},
        indent=2) + "\n", encoding="utf-8")
    page = config_dir / "labconfig" / "page_config.json"
    page.parent.mkdir(parents=True, exist_ok=True)
    settings = json.loads(page.read_text(encoding="utf-8")) if page.exists() else {}
    page.unlink(missing_ok=True)
    settings.setdefault("disabledExtensions", {}).update(
        {f"@jupyter/nbgrader:{name}": True for name in ("formgrader", "create-assignment", "course-list")})
    page.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    for path in [dest, *dest.rglob("*")]:
        if path.is_symlink() or (path.is_file() and path.stat().st_nlink > 1):
            continue  # a hard link shares its mode with the original: never chmod it
        mode = path.stat().st_mode
        wanted = mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir() or mode & stat.S_IXUSR:
            wanted |= stat.S_IXGRP | stat.S_IXOTH
        wanted &= ~(stat.S_IWGRP | stat.S_IWOTH)
        if wanted != mode:
            os.chmod(path, wanted)
    fit_environment_to_interpreter(dest)
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("setup", help="create the exchange folder (as root)")
    make.add_argument("--root", default=exchange_root())
    config = commands.add_parser("student-config", help="print the students' nbgrader_config.py")
    config.add_argument("--root", default=exchange_root())
    env = commands.add_parser("student-env", help="build a world-readable environment for student accounts")
    env.add_argument("dest")
    env.add_argument("--root", default=exchange_root())
    for command in (config, env):
        command.add_argument("--course-root", type=Path, default=None,
                             help="the course folder (default: the working directory's course)")
    args = parser.parse_args(argv)
    if args.command == "setup":
        print(f"exchange ready: {setup(args.root)} (mode 1777)")
    elif args.command == "student-config":
        print(student_config(args.root, course_id(args.course_root)), end="")
    else:
        python = student_env(args.dest, args.root, course_id(args.course_root))
        print(f"student environment ready: {python} -m nbgrader fetch_assignment {first_assignment(args.course_root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
