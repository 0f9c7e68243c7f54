# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
# Both create (once) and reuse the local virtual environment .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# nbgrader shells out to programs installed beside it (alembic), so the venv's bin comes first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The model's matrices are tiny: one BLAS thread per process is faster, and parallel
# grading on 2 cores is not oversubscribed.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1

.PHONY: demo test check lab sync generate venv clean student-bundle hub

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	# uv resolves the same versions as pip and installs them in about a third of the time (14 s against 41 s on a
	# fresh clone); pip stays in the venv for its users, and installs instead wherever uv cannot.
	$(BIN)/python -m uv pip install --quiet --native-tls --compile-bytecode --python $(BIN)/python -e '.[course]' \
		|| $(BIN)/python -m pip install --quiet -e '.[course]'
	# jsonschema's optional IRI checker (pulled in by jupyter-events' format-nongpl extra) compiles ~35 Lark
	# grammars on import: 1.3 s of every nbgrader, grading worker and Jupyter server start. No Jupyter or
	# nbgrader schema checks an IRI; without it jsonschema simply has no "iri" format (pip check stays clean).
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax lark
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m course_tools.demo.tour

# Three pytest processes on two cores (11 min 56 s against 14 min 43 s for two; both cores stay busy throughout),
# each taking whole test modules (their fixtures grade a class once per module), slowest first in conftest's
# SLOWEST_FIRST order (xdist would reorder them by their number of tests): docs/development.md.
test: $(STAMP)
	$(BIN)/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder

# The unit tier only (under a minute): no notebook run, no grading. Tiers: tests/conftest.py.
check: $(STAMP)
	$(BIN)/python -m pytest -m unit

# Instructors: try the student versions in JupyterLab (students use the bundle or the exchange).
lab: $(STAMP)
	$(BIN)/jupyter lab release/

# Students who are not on the course server: the released notebooks, the nextword wheel and a README.
student-bundle: $(STAMP)
	$(BIN)/python -m course_tools.publish.student_bundle

# The class on JupyterHub (docs/hub.md), as root, after `sudo .venv/bin/python -m course_tools.hub setup
# --instructor NAME` and the roster: the hub, its proxy, formgrader and the idle culler, in the foreground.
hub: $(STAMP)
	$(BIN)/python -m course_tools.hub start

# Instructors: each source notebook has a text twin, authoring/<a>/<a>.py (jupytext percent format).
# After editing either side (JupyterLab with nbgrader's toolbar, or a text editor), make the pair agree;
# the more recently saved side wins (`python -m course_tools.notebooks.authoring sync --from text` to choose).
sync: $(STAMP)
	$(BIN)/python -m course_tools.notebooks.authoring sync

# Instructors: generate the student versions (release/) from source/, as `nbgrader generate_assignment` does.
# (nbgrader's "release" is handing them to students: see docs/exchange.md.)
generate: $(STAMP)
	$(BIN)/python -m course_tools.notebooks.generate

clean:
	rm -rf $(VENV) .pytest_cache
