"""The course manifest (``course.toml``) and the course folder: the one place that lists the assignments.

    python -m course_tools.course assignments     # their names in order, one per line (for shell scripts)

The course folder is ``--root`` where a command takes one, else the working directory, as nbgrader
does; ``course_root()`` finds it by walking up to the nearest folder holding ``course.toml`` or
``nbgrader_config.py`` (``course --root``, see ``course_tools.cli``, means exactly that).
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MANIFEST = "course.toml"


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    unlocks: str
    graded: dict[str, float] = field(default_factory=dict)
    written: dict[str, float] = field(default_factory=dict)

    @property
    def points(self) -> dict[str, float]:
        """Every graded name and written answer with its points, graded names first."""
        return {**self.graded, **self.written}

    @property
    def total(self) -> float:
        return sum(self.points.values())


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    levels: tuple[str, ...]
    mastery_threshold: float
    assignments: tuple[Assignment, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.assignments)

    def assignment(self, name: str) -> Assignment:
        for assignment in self.assignments:
            if assignment.name == name:
                return assignment
        raise KeyError(f"{name!r} is not an assignment of course.toml (it has {', '.join(self.names)})")


def course_root(start: Path | None = None) -> Path:
    """The course folder for ``start`` (default: the working directory), as nbgrader takes it.

    The nearest folder at or above ``start`` holding course.toml or nbgrader_config.py; else ``start``.
    """
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file() or (folder / "nbgrader_config.py").is_file():
            return folder
    return start


# The manifest of the course these tools were installed from: a course folder made by hand (its own
# nbgrader_config.py, submitted/, ...) without a course.toml of its own grades against this course.
_OWN_MANIFEST = Path(__file__).resolve().parents[2] / MANIFEST


def manifest_path(root: Path | None = None) -> Path:
    """course.toml at or above ``root`` (default: ``course_root()``), else the tools' own course's."""
    start = Path(root or course_root()).resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file():
            return folder / MANIFEST
    if _OWN_MANIFEST.is_file():
        return _OWN_MANIFEST
    raise FileNotFoundError(f"no {MANIFEST} in {start} or above, and none beside the installed course_tools")


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> Course:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    head = data["course"]
    assignments = tuple(Assignment(name=a["name"], title=a["title"], unlocks=a["unlocks"],
                                   graded=dict(a.get("graded", {})), written=dict(a.get("written", {})))
                        for a in data["assignments"])
    course = Course(id=head["id"], title=head["title"], levels=tuple(head["levels"]),
                    mastery_threshold=float(head["mastery_threshold"]), assignments=assignments)
    unknown = [a.unlocks for a in assignments if a.unlocks not in course.levels]
    if unknown:
        raise ValueError(f"{path}: levels {unknown} are not in [course] levels {list(course.levels)}")
    return course


def load(root: Path | None = None) -> Course:
    """The manifest of the course at ``root`` (default: ``course_root()``; see ``manifest_path``)."""
    path = manifest_path(root)
    return _load(path, path.stat().st_mtime)


def available_assignments(root: Path) -> list[str]:
    """The course's assignments that have a source folder under ``root``, in course order."""
    return [name for name in load(root).names if (Path(root) / "source" / name).is_dir()]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["assignments"]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print("\n".join(load().names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
