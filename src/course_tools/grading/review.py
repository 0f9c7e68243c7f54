"""Flag submissions for human review: a static scan of the student's answer cells for tricks, never a score.

    from course_tools.grading import review
    findings = review.scan_notebook(nbformat.read(path, as_version=4))
    if findings:
        print(student, review.summarize(findings))
    # flagged for review: get_ipython (cell f, line 3); open() (cell g, line 1)

The scan parses each answer cell (nbgrader ``solution`` code cell) with ``ast``;
it never runs student code. IPython syntax (``%magic``, ``!shell``) is first
turned into the Python IPython would run, so magics and shell escapes are seen
too. A cell that still does not parse gives no findings (the grader reports
syntax errors itself).

What is flagged, each with a short reason:

* IPython internals: ``get_ipython``, IPython/ipykernel imports, ``events.register``,
  ``displayhook``, input/AST transformers, ``set_custom_exc``, ``user_ns``, magics
  other than ``%time``/``%timeit``/``%matplotlib`` and every ``!`` shell command;
* frame and introspection tricks: ``sys._getframe``, ``inspect``, ``f_back``/``f_globals``,
  ``gc``, ``sys.settrace``/``setprofile``, ``sys.modules``, ``ctypes``;
* builtins and dunder tricks: ``builtins``/``__builtins__``, ``exec``/``eval``/``compile``/
  ``__import__``, ``__class__`` assignment, ``__instancecheck__``/``__subclasshook__``,
  comparison dunders (``__eq__``, ``__hash__``, ``__bool__``...) on subclasses of value types
  (float, int, str, tuple, list, dict, NumPy arrays...) or on metaclasses, an ``__eq__``
  that always answers True, NumPy protocol overrides (``__array_ufunc__``...);
* threads and processes, files, network: ``threading``, ``multiprocessing``,
  ``subprocess``, ``os.system``/``fork``/``exec*``/``_exit``, ``signal``; ``open()``,
  ``pathlib``, ``os.remove``, ``shutil``; ``socket``, ``urllib``, ``http``, ``requests``;
* monkeypatching: assigning or deleting attributes of modules and imported names
  (``np.isclose = ...``, ``math.isclose = ...``, ``nextword.X = ...``), ``setattr`` on
  them, and rebinding names the course's own locked cells define (``check_equal``...);
* attribute names chosen at run time on a module (``getattr(os, "fo" + "rk")``,
  ``getattr(np, name)``): a name-based scan cannot see which attribute they reach;
* raw output bundles: ``display(..., raw=True)``, a ``dict`` handed to ``display``,
  ``publish_display_data`` (they write any MIME type, images included, into the notebook);
* wrappers of graded names: rebinding a graded function or class after its definition
  (``normalize_context = recorder(normalize_context)``) or decorating it (a plain
  ``@dataclass`` on a class aside), which lets an answer watch every call the tests make;
* writes into arguments: assigning a private ``_attribute`` of a function's parameter, or an item
  reached through one, or ``setattr``/``delattr`` on a parameter (a method's own ``self``/``cls``
  aside): the objects a test passes in belong to the test (``stream._truth[:] = ...``).

Honest solutions are not flagged: ``numpy``, ``math``, ``collections``, ``dataclasses``,
``copy`` (``deepcopy`` included), ``itertools``, ``isinstance``/``type`` checks and
ordinary dunders (``__init__``, ``__len__``, ``__repr__``, an ``__eq__`` that compares
fields on a plain class) pass.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from ..notebooks.cells import cell_grade_id, cell_role, cell_source, cell_type, is_answer, is_graded, is_locked

IPY = "IPython internals"
FRAME = "frame/introspection tricks"
DUNDER = "builtins/dunder tricks"
PROC = "threads/processes"
FILES = "file access"
NET = "network access"
PATCH = "monkeypatching"
COMPUTED = "an attribute chosen at run time"
DISPLAY = "raw output bundles"
WRAP = "a wrapper of a graded name"
ARGUMENT = "writes into an argument"


@dataclass(frozen=True)
class Finding:
    """One suspicious construct: the answer cell's ``grade_id``, the line in that cell, a short reason."""
    grade_id: str
    line: int
    reason: str


# --------------------------------------------------------------------------- rules

MODULES = {  # top-level module -> family; importing it is flagged
    **dict.fromkeys(("IPython", "ipykernel", "jupyter_client", "jupyter_core", "comm", "zmq"), IPY),
    **dict.fromkeys(("inspect", "gc", "ctypes", "_ctypes", "cffi", "tracemalloc", "sysconfig"), FRAME),
    **dict.fromkeys(("builtins", "__builtin__", "importlib", "imp", "code", "codeop", "runpy", "pkgutil"), DUNDER),
    **dict.fromkeys(("threading", "_thread", "multiprocessing", "concurrent", "subprocess", "signal", "pty",
                     "asyncio", "atexit", "resource", "_posixsubprocess", "sched", "faulthandler"), PROC),
    **dict.fromkeys(("shutil", "pathlib", "tempfile", "glob", "fileinput", "pickle", "dill", "cloudpickle",
                     "shelve", "marshal", "dbm", "sqlite3", "zipfile", "tarfile", "fcntl", "mmap", "posix",
                     "nt", "filecmp", "linecache"), FILES),
    **dict.fromkeys(("socket", "ssl", "urllib", "urllib3", "http", "requests", "httpx", "aiohttp", "ftplib",
                     "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc", "socketserver", "webbrowser",
                     "websocket", "websockets", "paramiko", "select", "selectors"), NET),
    **dict.fromkeys(("unittest", "mock", "pytest"), PATCH),
}

QUALIFIED = {  # resolved dotted name (or prefix ending in '.') -> family; any use is flagged
    **dict.fromkeys(("sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile", "sys.gettrace",
                     "sys.modules", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache",
                     "sys.addaudithook", "sys.breakpointhook", "sys.last_traceback"), FRAME),
    **dict.fromkeys(("sys.displayhook", "sys.excepthook", "sys.__displayhook__", "sys.__excepthook__"), IPY),
    **dict.fromkeys(("os.system", "os.popen", "os.fork", "os.forkpty", "os.exec", "os.spawn", "os.posix_spawn",
                     "os._exit", "os.kill", "os.killpg", "os.abort", "os.setsid", "os.setuid", "os.setgid",
                     "os.nice", "os.pipe", "os.dup2", "os.register_at_fork", "os.wait", "os.startfile"), PROC),
    **dict.fromkeys(("os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.rename", "os.renames",
                     "os.replace", "os.mkdir", "os.makedirs", "os.listdir", "os.scandir", "os.walk", "os.fwalk",
                     "os.chdir", "os.chmod", "os.chown", "os.symlink", "os.link", "os.open", "os.fdopen",
                     "os.write", "os.read", "os.truncate", "os.environ", "os.putenv", "os.unsetenv", "os.getenv",
                     "os.getcwd", "os.path.exists", "os.path.isfile", "os.path.isdir", "os.path.expanduser",
                     "io.open", "io.FileIO", "codecs.open", "numpy.load", "numpy.save", "numpy.savez",
                     "numpy.savez_compressed", "numpy.loadtxt", "numpy.savetxt", "numpy.genfromtxt",
                     "numpy.fromfile", "numpy.memmap", "numpy.lib.format"), FILES),
}
PREFIX_RULES = {"os.exec", "os.spawn", "os.posix_spawn", "os.wait"}  # os.execv, os.spawnlp, os.waitpid, ...

NAMES = {  # bare names -> (label, family)
    "get_ipython": ("get_ipython", IPY), "__IPYTHON__": ("__IPYTHON__", IPY),
    "exec": ("exec()", DUNDER), "eval": ("eval()", DUNDER), "compile": ("compile()", DUNDER),
    "__import__": ("__import__", DUNDER), "__builtins__": ("__builtins__", DUNDER),
    "globals": ("globals()", DUNDER), "breakpoint": ("breakpoint()", FRAME),
    "open": ("open()", FILES), "exit": ("exit() (ends the kernel)", PROC), "quit": ("quit() (ends the kernel)", PROC),
}

ATTRIBUTES = {  # attribute names, whatever they are looked up on -> family
    **dict.fromkeys(("f_back", "f_globals", "f_locals", "f_builtins", "f_trace", "tb_frame", "gi_frame",
                     "cr_frame", "ag_frame", "__globals__", "__code__", "__closure__", "__subclasses__",
                     "__builtins__"), FRAME),
    **dict.fromkeys(("displayhook", "display_pub", "input_transformers_post", "input_transformers_cleanup",
                     "input_transformer_manager", "ast_transformers", "set_custom_exc", "custom_exceptions",
                     "CustomTB", "user_ns", "user_global_ns", "user_ns_hidden", "run_cell", "run_line_magic",
                     "run_cell_magic", "register_magic_function", "register_magics", "showtraceback",
                     "history_manager", "payload_manager", "excepthook"), IPY),
    **dict.fromkeys(("read_text", "write_text", "read_bytes", "write_bytes", "symlink_to", "hardlink_to",
                     "tofile", "iterdir", "rglob"), FILES),
}
WRITE_ONLY_ATTRIBUTES = {"__class__", "__dict__", "__bases__", "__qualname__", "__module__", "__defaults__",
                         "__kwdefaults__", "__name__"}

VALUE_TYPES = {"float", "int", "str", "bytes", "bool", "complex", "tuple", "list", "dict", "set", "frozenset",
               "numpy.ndarray", "numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32", "numpy.generic",
               "numpy.number", "numpy.floating", "numpy.integer", "numpy.str_", "numpy.bool_",
               "collections.Counter", "collections.OrderedDict", "collections.defaultdict", "collections.UserDict",
               "collections.UserList", "collections.UserString", "collections.namedtuple"}
METACLASS_BASES = {"type", "abc.ABCMeta", "enum.EnumMeta", "enum.EnumType"}
COMPARISON_DUNDERS = {"__eq__", "__ne__", "__hash__", "__bool__", "__lt__", "__le__", "__gt__", "__ge__",
                      "__float__", "__int__", "__index__", "__abs__", "__sub__", "__rsub__", "__getattribute__"}
SPOOF_DUNDERS = {"__instancecheck__": "fakes isinstance", "__subclasscheck__": "fakes issubclass",
                 "__subclasshook__": "fakes issubclass/isinstance", "__class__": "fakes its type",
                 "__array_ufunc__": "overrides NumPy functions", "__array_function__": "overrides NumPy functions",
                 "__array_wrap__": "overrides NumPy results", "__array_priority__": "overrides NumPy results",
                 "__init_subclass__": "hooks class creation", "__prepare__": "hooks class creation"}

# Modules a test may use whether or not the cell imports them: attribute writes on these are monkeypatching.
KNOWN_MODULES = {"np": "numpy", "numpy": "numpy", "math": "math", "nextword": "nextword", "sys": "sys",
                 "os": "os", "builtins": "builtins", "random": "random", "statistics": "statistics",
                 "collections": "collections", "itertools": "itertools", "functools": "functools",
                 "operator": "operator", "copy": "copy", "pd": "pandas", "pandas": "pandas", "scipy": "scipy",
                 "warnings": "warnings", "time": "time", "re": "re", "json": "json", "dataclasses": "dataclasses"}

ALLOWED_MAGICS = {"time", "timeit", "matplotlib"}
PLAIN_CLASS_DECORATORS = {"dataclass", "dataclasses.dataclass"}  # a graded class may be a plain dataclass  # their code argument is scanned like any other code


# --------------------------------------------------------------------------- the scanner

def _ipython_to_python(source: str) -> str | None:
    """IPython syntax (magics, ``!`` commands) as the Python IPython runs; ``None`` if IPython is unavailable."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython ships with the grading environment
        return None
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return None


def _parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        pass
    transformed = _ipython_to_python(source)
    if transformed is None or transformed == source:
        return None
    try:
        return ast.parse(transformed)
    except (SyntaxError, ValueError):
        return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, grade_id: str, protected: set[str], modules: dict[str, str], line_offset: int = 0,
                 graded: set[str] = frozenset()):
        self.grade_id = grade_id
        self.protected = protected
        self.graded = set(graded)             # names the answer cells define at top level (the graded names)
        self.parameters: list[set[str]] = []  # per enclosing function: its parameters (minus a method's self/cls)
        self.defined_here: set[str] = set()   # graded names this cell defines with def/class
        self.aliases = dict(modules)          # name -> dotted module or object path
        self.imported: set[str] = set()       # names this cell binds by import
        self.classes: dict[str, ast.ClassDef] = {}
        self.findings: list[Finding] = []
        self.line_offset = line_offset
        self.skip: set[int] = set()           # ids of nodes already explained (e.g. magic calls)

    # -- helpers

    def flag(self, node: ast.AST, what: str, family: str) -> None:
        line = getattr(node, "lineno", 1) + self.line_offset
        self.findings.append(Finding(self.grade_id, line, f"uses {what} ({family})"))

    def qualname(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def source_name(self, node: ast.AST) -> str:
        try:
            return ast.unparse(node)[:60]
        except Exception:  # pragma: no cover
            return "?"

    def root_name(self, node: ast.AST) -> str | None:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    def is_module_like(self, name: str | None) -> bool:
        return name is not None and (name in self.imported or name in self.aliases)

    def check_qualified(self, node: ast.AST, qualname: str | None) -> bool:
        for rule, family in QUALIFIED.items():
            if qualname and (qualname == rule or qualname.startswith(rule + ".")
                             or (rule in PREFIX_RULES and qualname.startswith(rule))):
                self.flag(node, "np." + qualname[len("numpy."):] if qualname.startswith("numpy.") else qualname,
                          family)
                return True
        return False

    # -- pre-pass: imports and classes anywhere in the cell

    def collect(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
                    self.imported.add(local)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        local = alias.asname or alias.name
                        self.aliases[local] = f"{node.module}.{alias.name}"
                        self.imported.add(local)
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node

    # -- imports

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            if not self.check_module(node, node.module):
                for alias in node.names:
                    qualname = f"{node.module}.{alias.name}"
                    if not self.check_qualified(node, qualname) and alias.name in NAMES:
                        label, family = NAMES[alias.name]
                        self.flag(node, label, family)

    def check_module(self, node: ast.AST, module: str) -> bool:
        parts = module.split(".")
        for depth in range(len(parts), 0, -1):
            family = MODULES.get(".".join(parts[:depth]))
            if family:
                self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                             f"imports {module} ({family})"))
                return True
        return False

    # -- names, attributes, calls

    def visit_Name(self, node: ast.Name) -> None:
        if id(node) in self.skip:
            return
        if node.id in NAMES and node.id not in self.aliases:
            label, family = NAMES[node.id]
            self.flag(node, label, family)
        elif node.id in self.aliases and node.id in self.imported:
            self.check_qualified(node, self.aliases[node.id])  # from os import system; system(...)
        if isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in self.protected:
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"redefines {node.id} ({PATCH} of the course's own helpers)"))
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in self.graded and not self.parameters:
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"rebinds the graded name {node.id} after its definition ({WRAP})"))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if id(node) in self.skip:
            return
        storing = isinstance(node.ctx, (ast.Store, ast.Del))
        flagged = self.check_qualified(node, self.qualname(node))
        if not flagged and node.attr in ATTRIBUTES:
            self.flag(node, f".{node.attr}", ATTRIBUTES[node.attr])
            flagged = True
        if not flagged and node.attr == "register" and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "events":
            self.flag(node, "events.register", IPY)
            flagged = True
        if not flagged and node.attr == "__dict__" and self.is_module_like(self.root_name(node.value)):
            self.flag(node, self.source_name(node), PATCH)
        if storing and (node.attr in WRITE_ONLY_ATTRIBUTES or node.attr in COMPARISON_DUNDERS
                        or node.attr in SPOOF_DUNDERS):
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"assigns {node.attr} ({DUNDER})"))
        elif storing and self.is_module_like(self.root_name(node)) and self.root_name(node) != "self":
            verb = "deletes" if isinstance(node.ctx, ast.Del) else "assigns"
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"{verb} {self.source_name(node)} ({PATCH})"))
        elif storing and self.is_parameter(self.root_name(node)) and _private_attribute_in_chain(node):
            # public attributes of an argument may be an answer's job (model.history = ...); private state is not
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"assigns {self.source_name(node)}, private state of an argument ({ARGUMENT})"))
        if not (flagged and isinstance(node.value, ast.Name)):
            self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "__dict__":
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"assigns {self.source_name(node.value)}[...] ({PATCH})"))
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and self.is_parameter(self.root_name(node)) \
                and _private_attribute_in_chain(node.value):
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"assigns {self.source_name(node)}, private state of an argument ({ARGUMENT})"))
        self.generic_visit(node)

    def is_parameter(self, name: str | None) -> bool:
        return name is not None and bool(self.parameters) and name in self.parameters[-1]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) \
                and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython" \
                and func.attr in ("run_line_magic", "run_cell_magic", "system", "getoutput"):
            self.magic(node, func.attr)
            return
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            target = node.args[0]
            if self.is_module_like(self.root_name(target)) and self.root_name(target) != "self":
                self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                             f"calls {func.id}({self.source_name(target)}, ...) ({PATCH})"))
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr", "hasattr") \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str):
            name = node.args[1].value
            base = self.qualname(node.args[0]) if self.is_module_like(self.root_name(node.args[0])) else None
            if base and self.check_qualified(node, f"{base}.{name}"):
                pass
            elif name in ATTRIBUTES:
                self.flag(node, f"{func.id}(..., {name!r})", ATTRIBUTES[name])
            elif name in WRITE_ONLY_ATTRIBUTES and func.id in ("setattr", "delattr"):
                self.flag(node, f"{func.id}(..., {name!r})", DUNDER)
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr", "hasattr") \
                and len(node.args) >= 2 and not (isinstance(node.args[1], ast.Constant)
                                                 and isinstance(node.args[1].value, str)) \
                and self.is_module_like(self.root_name(node.args[0])):
            folded = _constant_string(node.args[1])
            base = self.qualname(node.args[0])
            if not (folded and base and self.check_qualified(node, f"{base}.{folded}")):
                self.flag(node, f"{func.id}({self.source_name(node.args[0])}, {self.source_name(node.args[1])})",
                          COMPUTED)
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args \
                and self.is_parameter(self.root_name(node.args[0])):
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"calls {func.id}({self.source_name(node.args[0])}, ...) on an argument "
                                         f"({ARGUMENT})"))
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if called in ("display", "update_display", "publish_display_data"):
            raw = any(k.arg == "raw" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                      for k in node.keywords)
            bundle = any(isinstance(a, ast.Dict) or (isinstance(a, ast.Call) and isinstance(a.func, ast.Name)
                                                       and a.func.id == "dict") for a in node.args)
            if called == "publish_display_data" or raw or bundle:
                self.flag(node, f"{called}() of a raw MIME bundle", DISPLAY)
        if isinstance(func, ast.Name) and func.id == "type" and len(node.args) == 3 and "type" not in self.aliases:
            self.flag(node, "type(name, bases, namespace) (a class made at run time)", DUNDER)
        if isinstance(func, ast.Name) and func.id == "vars" and node.args \
                and self.is_module_like(self.root_name(node.args[0])):
            self.flag(node, f"vars({self.source_name(node.args[0])})", PATCH)
        self.generic_visit(node)

    def magic(self, node: ast.Call, kind: str) -> None:
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        if kind in ("system", "getoutput"):
            self.flag(node, "a ! shell command", PROC)
            return
        name = args[0] if args else None
        if name in ALLOWED_MAGICS:
            code = (args[2] if kind == "run_cell_magic" and len(args) > 2 else args[1] if len(args) > 1 else None)
            if code and name != "matplotlib":
                for finding in scan_source(code, self.grade_id, _protected=self.protected, _modules=self.aliases):
                    self.findings.append(Finding(finding.grade_id, finding.line + node.lineno - 1 + self.line_offset,
                                                 finding.reason))
            return
        self.flag(node, f"the %{'%' if kind == 'run_cell_magic' else ''}{name} magic", IPY)

    # -- definitions

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool = False) -> None:
        if node.name in self.protected:
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"redefines {node.name} ({PATCH} of the course's own helpers)"))
        self.check_graded_definition(node)
        arguments = node.args
        names = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
        names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
        if method and names and not any(_decorator_name(d) == "staticmethod" for d in node.decorator_list):
            names = names[1:]  # the method's own self (or cls)
        for item in node.decorator_list + arguments.defaults + [d for d in arguments.kw_defaults if d is not None]:
            self.visit(item)
        self.parameters.append(set(names))
        for item in node.body:
            self.visit(item)
        self.parameters.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        arguments = node.args
        self.parameters.append({a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs})
        self.generic_visit(node)
        self.parameters.pop()

    def check_graded_definition(self, node) -> None:
        """A graded function or class defined at the top level: decorated with anything but a plain @dataclass?"""
        if node.name not in self.graded or self.parameters:
            return
        for decorator in node.decorator_list:
            name = _decorator_name(decorator)
            if isinstance(node, ast.ClassDef) and self.aliases.get(name, name) in PLAIN_CLASS_DECORATORS | {"dataclass"}:
                continue
            self.findings.append(Finding(self.grade_id, decorator.lineno + self.line_offset,
                                         f"decorates the graded name {node.name} with "
                                         f"@{self.source_name(decorator)} ({WRAP})"))

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.protected:
                self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                             f"redefines {name} ({PATCH} of the course's own helpers)"))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name in self.protected:
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"redefines {node.name} ({PATCH} of the course's own helpers)"))
        self.check_graded_definition(node)
        own = _class_dunders(node)
        for name in own & set(SPOOF_DUNDERS):
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"defines {name} in {node.name} ({DUNDER}: {SPOOF_DUNDERS[name]})"))
        comparisons = self.inherited_dunders(node) & COMPARISON_DUNDERS
        value_base = self.value_base(node)
        if comparisons and value_base:
            what = ", ".join(sorted(comparisons & {"__eq__", "__ne__", "__hash__", "__bool__"}) or sorted(comparisons))
            self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                         f"defines {what} on {node.name}, a {value_base} ({DUNDER})"))
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                meta = self.classes.get(getattr(keyword.value, "id", ""))
                if meta is not None and self.inherited_dunders(meta) & COMPARISON_DUNDERS:
                    self.findings.append(Finding(self.grade_id, node.lineno + self.line_offset,
                                                 f"uses metaclass {meta.name} that defines comparisons ({DUNDER})"))
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__eq__" \
                    and _always_true(item):
                self.findings.append(Finding(self.grade_id, item.lineno + self.line_offset,
                                             f"defines an __eq__ that always returns True ({DUNDER})"))
            elif isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__eq__"
                                                      for t in item.targets) and _always_true(item.value):
                self.findings.append(Finding(self.grade_id, item.lineno + self.line_offset,
                                             f"defines an __eq__ that always returns True ({DUNDER})"))
        for item in node.bases + node.keywords + node.decorator_list:
            self.visit(item)
        saved, self.parameters = self.parameters, self.parameters + [set()]  # class body: nothing is an argument
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.visit_FunctionDef(item, method=True)
            else:
                self.visit(item)
        self.parameters = saved

    def inherited_dunders(self, node: ast.ClassDef, seen: frozenset = frozenset()) -> set[str]:
        names = _class_dunders(node)
        for base in node.bases:
            local = self.classes.get(getattr(base, "id", ""))
            if local is not None and local.name not in seen:
                names |= self.inherited_dunders(local, seen | {node.name})
        return names

    def value_base(self, node: ast.ClassDef, seen: frozenset = frozenset()) -> str | None:
        """'float subclass', 'metaclass', ... when the class (or a local base) derives from a value type or type."""
        for base in node.bases:
            qualname = self.qualname(base) or ""
            if qualname in VALUE_TYPES:
                return f"subclass of {qualname}"
            if qualname in METACLASS_BASES:
                return "metaclass"
            local = self.classes.get(getattr(base, "id", ""))
            if local is not None and local.name not in seen:
                found = self.value_base(local, seen | {node.name})
                if found:
                    return found
        return None


def _decorator_name(node: ast.AST) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _constant_string(node: ast.AST) -> str | None:
    """The value of a string built from literals only (``"fo" + "rk"``, ``"_ex" "it"``), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant_string(node.left), _constant_string(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _private_attribute_in_chain(node: ast.AST) -> bool:
    """``x._truth``, ``x._truth[0]``, ``x.a._b``: the chain reaches a private (single-underscore) attribute."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            return True
        node = node.value
    return False


def _class_dunders(node: ast.ClassDef) -> set[str]:
    names = set()
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(item.name)
        elif isinstance(item, ast.Assign):
            names |= {t.id for t in item.targets if isinstance(t, ast.Name)}
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            names.add(item.target.id)
    return {n for n in names if n.startswith("__") and n.endswith("__")}


def _always_true(node: ast.AST) -> bool:
    """A function or lambda whose every return is the constant True (docstrings and ``pass`` aside)."""
    if isinstance(node, ast.Lambda):
        return isinstance(node.body, ast.Constant) and node.body.value is True
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
    return bool(returns) and all(isinstance(r.value, ast.Constant) and r.value.value is True for r in returns)


# --------------------------------------------------------------------------- API

def scan_source(source: str, grade_id: str = "", *, _protected: Iterable[str] = (),
                _modules: dict[str, str] | None = None, graded: Iterable[str] | None = None) -> list[Finding]:
    """Findings in one cell's source, in line order; a source that does not parse gives none.

    ``graded``: the graded names (default: the functions and classes this source defines at its top level).
    """
    tree = _parse(source)
    if tree is None:
        return []
    if graded is None:
        graded = top_level_definitions(tree)
    scanner = _Scanner(grade_id, set(_protected), dict(KNOWN_MODULES if _modules is None else _modules),
                       graded=set(graded))
    scanner.collect(tree)
    scanner.visit(tree)
    unique = {(f.line, f.reason): f for f in scanner.findings}
    return [unique[key] for key in sorted(unique)]


def top_level_definitions(tree: ast.AST) -> set[str]:
    """Public functions and classes a cell defines at its top level (a student's private ``_helper`` is not graded)."""
    return {node.name for node in getattr(tree, "body", [])
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_")}


def graded_names(nb) -> set[str]:
    """Functions and classes the notebook's answer cells define at their top level (the released stubs' names)."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell_role(cell) == "answer":
            tree = _parse(cell_source(cell))
            names |= top_level_definitions(tree) if tree is not None else set()
    return names


def course_names(nb) -> set[str]:
    """Names the notebook's locked, non-answer code cells define (the grading guard's ``check_*``, helpers):
    an answer cell that rebinds one is tampering with the tests' tools."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell_type(cell) != "code" or not is_locked(cell) or is_answer(cell):
            continue
        try:
            tree = ast.parse(cell_source(cell))
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign) and not is_graded(cell):
                for target in node.targets:
                    names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def scan_notebook(nb, release=None) -> list[Finding]:
    """Findings in a submission's answer cells (nbgrader ``solution`` code cells), in notebook order.

    With ``release`` (the released notebook), answer cells are the submission's cells whose ``grade_id``
    is a solution code cell of the release, whatever flags the submission carries, and the course's own
    names come from the release's locked cells (a submission may have edited them).
    """
    reference = release if release is not None else nb
    protected = course_names(reference)
    graded = graded_names(reference)
    if release is not None:
        answer_ids = {cell_grade_id(c) for c in release.cells if cell_role(c) == "answer"} - {""}
        cells = [c for c in nb.cells if cell_type(c) == "code" and cell_grade_id(c) in answer_ids]
    else:
        cells = [c for c in nb.cells if cell_role(c) == "answer"]
    findings = []
    for index, cell in enumerate(cells):
        grade_id = cell_grade_id(cell) or f"answer {index + 1}"
        findings += scan_source(cell_source(cell), grade_id,
                                _protected=protected, _modules=KNOWN_MODULES, graded=graded)
    return findings


def label(finding: Finding) -> str:
    """The short name of what was found: 'get_ipython', 'open()', 'imports subprocess', ..."""
    text = finding.reason
    text = text[len("uses "):] if text.startswith("uses ") else text
    return text.rsplit(" (", 1)[0] if text.endswith(")") else text


def summarize(findings: Iterable[Finding], limit: int = 8) -> str:
    """One line for a grading report: ``flagged for review: get_ipython (cell f, line 3); open() (cell g, line 1)``.

    Empty when there is nothing to review; at most ``limit`` items, then how many more.
    """
    items = []
    for finding in findings:
        item = f"{label(finding)} (cell {finding.grade_id}, line {finding.line})"
        if item not in items:
            items.append(item)
    if not items:
        return ""
    more = f"; and {len(items) - limit} more" if len(items) > limit else ""
    return "flagged for review: " + "; ".join(items[:limit]) + more
