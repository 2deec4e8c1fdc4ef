# Two commands: `make run` serves the API with a local S3 server, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# `make run` is the service (granian, backend/server.py); `make dev` the same with Django's autoreloading
# development server.
.PHONY: run dev test lint bench soak install sample-images gallery clean-local

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# A local .env with a random secret key, written once and never overwritten.
.env:
	@key=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))'); \
	sed "s|^# DJANGO_SECRET_KEY=.*|DJANGO_SECRET_KEY=$$key|" .env.example > .env
	@echo "wrote .env (local settings, not committed)"

run: install .env
	PORT=$(PORT) $(BIN)/python -m localdev.run

dev: install .env
	PORT=$(PORT) $(BIN)/python -m localdev.run --dev

test: install node_modules/.installed .env
	$(BIN)/pytest

# openapi-typescript and tsc, pinned by package-lock.json: the suite checks the gallery page's calls against the
# types of the live schema. Only the tests need Node; `make run` does not.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install .env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install .env bench/.photos/.fetched
	$(BIN)/python -m bench.run

# Real photographs for the AVIF/WebP comparison (bench/avif.py): Debian's mate-backgrounds package, unpacked here
# (not committed).
bench/.photos/.fetched:
	mkdir -p bench/.photos
	cd bench/.photos && apt-get download mate-backgrounds && dpkg-deb -x mate-backgrounds_*.deb . && rm mate-backgrounds_*.deb
	touch $@

# 20 minutes of mixed traffic against `make run` itself, with a rebuild of every variant midway: bench/SOAK.md.
soak: install .env
	$(BIN)/python -m bench.soak

# image1.jpg and image2.jpg for the README's curl examples.
sample-images: install
	$(BIN)/python -m localdev.sample_images image1.jpg image2.jpg

# The reference gallery page (examples/gallery/) on an origin of its own, next to `make run`.
GALLERY_PORT ?= 5173
gallery:
	@echo "gallery on http://127.0.0.1:$(GALLERY_PORT)/ (its origin must be in CORS_ALLOWED_ORIGINS)"
	$(PYTHON) -m http.server $(GALLERY_PORT) --bind 127.0.0.1 --directory examples/gallery

# Forget local data: the SQLite database and the local S3 server's objects.
clean-local:
	rm -rf .localdata db.sqlite3
