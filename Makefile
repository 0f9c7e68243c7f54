# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
# Both create (once) and reuse the local virtual environment .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSIGNMENTS := 01_testing 02_monitoring 03_continuous_training

# nbgrader shells out to programs installed beside it (alembic), so the venv's bin comes first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The model's matrices are tiny: one BLAS thread per process is faster, and parallel
# grading on 2 cores is not oversubscribed.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1

.PHONY: demo test lab notebooks release venv clean student-bundle

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[course]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m course_tools.demo

test: $(STAMP)
	$(BIN)/python -m pytest

# Instructors: try the student versions in JupyterLab (students use the bundle or the exchange).
lab: $(STAMP)
	$(BIN)/jupyter lab release/

# Students who are not on the course server: the released notebooks, the nextword wheel and a README.
student-bundle: $(STAMP)
	$(BIN)/python -m course_tools.student_bundle

# Instructors: rebuild source notebooks from authoring/ scripts, then the release from source.
notebooks: $(STAMP)
	for script in authoring/*.py; do PYTHONPATH=src $(BIN)/python $$script || exit 1; done

release: $(STAMP)
	$(BIN)/python -m course_tools.release

clean:
	rm -rf $(VENV) .pytest_cache
