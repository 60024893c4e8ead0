# The README's two commands:  `make app`  and  `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: app test test-fast install js browser lint ray umap warm

# Python environment (re-installs only when requirements.txt or pyproject.toml change)
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m core.motifs.jaspar --warm
	touch $(STAMP)

# compile memelite's TOMTOM kernels (numba, cached on disk) and cache JASPAR's matrices as .npz (~/.cache/dnalens),
# so the first `dnalens motifs` with JASPAR pays neither; `make install` runs it, rerun it after clearing the cache
warm: $(STAMP)
	$(PY) -m core.motifs.jaspar --warm

install: $(STAMP) js

# bertviz's d3 / jQuery / RequireJS for the offline head view, from the npm registry (not committed)
js:
	bash scripts/fetch_js.sh

# the optional Ray extra (genome variant runs on Ray Data); CI tests it, so `make test` installs it
RAY_STAMP := $(VENV)/.installed-ray
$(RAY_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e ".[ray]"
	touch $(RAY_STAMP)

ray: $(RAY_STAMP)

# the optional UMAP extra (the Sets page's projector; PCA needs nothing); CI tests it, so `make test` installs it
UMAP_STAMP := $(VENV)/.installed-umap
$(UMAP_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e ".[umap]"
	touch $(UMAP_STAMP)

umap: $(UMAP_STAMP)

# Debian's Chromium: browser tests and static export of plotly figures (kaleido)
browser:
	bash scripts/install_chromium.sh

app: install
	$(VENV)/bin/dnalens app

test: install browser ray umap
	$(PY) -m pytest -m "" -q --durations=25

test-fast: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
