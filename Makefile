# Two commands do everything on a fresh machine:
#   make book   build the HTML book into _build/html (offline assets included)
#   make test   run every test: notebooks, package, build, browser
#               (two pytest-xdist workers; nbval runs every notebook cell by cell in the
#               same run, a whole notebook to one worker, so its cells share one kernel,
#               and its runs are the build's: tests/support/nbval_run.py)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUILD := _build

.PHONY: setup assets book test lab lint bench bench-pages bench-course handouts course hub mutants clean pdf screenshots worksheets

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

assets: $(STAMP)
	$(PY) -m bookkit assets

book: $(STAMP)
	$(PY) -m bookkit book
	@echo "The book is in $(BUILD)/html/index.html"

# Python may cache compiled modules (__pycache__, ignored by git) even where the
# environment says not to (PYTHONDONTWRITEBYTECODE): each of the run's kernels and tools
# imports the package, and pytest rewrites the test modules' asserts, each time again
# without the cache.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n 2 --dist loadgroup --no-loadscope-reorder --nbval-lax --nbval-current-env

# Readers work in lab/, a copy of book/ made on first use (never overwritten), so their
# edits and saved outputs stay out of the committed sources.
lab: $(STAMP)
	mkdir -p lab && cp -rn book/. lab/
	$(VENV)/bin/jupyter lab lab/

# Student notebooks without solutions, the instructor's with, and a zip of both.
handouts: $(STAMP)
	$(PY) -m bookkit handouts

# The teacher's nbgrader course, one lean assignment per chapter, in course/ (outside
# _build/, so `make clean` keeps it; rebuilding never overwrites the teacher's edits).
course: $(STAMP)
	$(PY) -m bookkit course

# JupyterHub on 127.0.0.1 for a demo class (teacher, ada, bea), with the course.
hub: $(STAMP)
	$(PY) -m bookkit hub

# The whole book as one PDF, printed from the built HTML by Chromium (offline):
# _build/pdf/backprop-book.pdf. `make pdf PDF_FLAGS=--no-solutions` leaves the solutions out.
pdf: book
	$(PY) -m bookkit pdf $(PDF_FLAGS)

# Every page of the built book, whole, as JPEG: _build/screenshots/whole/ (make test saves
# only the top of each page, at desktop and phone widths).
screenshots: book
	$(PY) -m bookkit screenshots

# One worksheet PDF per student (their own exercise numbers), one per chapter for the
# class, and the instructor's key (key.pdf, key.csv):
# `make worksheets ROSTER=roster.txt` (one id per line); without ROSTER, a demo roster.
ROSTER ?= bookkit/demo-roster.txt
worksheets: assets
	$(PY) -m bookkit worksheets --students $(ROSTER)

# A benchmark, not a test: prints timings and ratios, writes _build/bench.json.
bench: $(STAMP)
	$(PY) -m bookkit bench

# Plant the classic backprop bugs; every one must be caught (also run by make test).
mutants: $(STAMP)
	$(PY) -m bookkit mutants

# How soon each page of the built book settles (math in place) and its first widget
# answers, at 1280 px and 390 px: a benchmark, not a test. Writes _build/bench-pages.json.
bench-pages: book
	$(PY) -m bookkit bench-pages

# Seconds of autograding per student, per chapter. A benchmark, not a test.
bench-course: $(STAMP)
	$(PY) -m bookkit bench-course

lint: $(STAMP)
	$(VENV)/bin/ruff check backprop_book bookkit tests book

clean:
	rm -rf $(BUILD) web/dist
