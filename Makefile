# relwatch: two commands do all set-up on a fresh machine.
#   make demo   creates .venv, installs everything, runs the main job end to end (embedded)
#   make test   creates .venv if needed, runs ruff and the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RELWATCH := $(BIN)/relwatch
WHEELS := $(wildcard /opt/wheels)
PIP_LINKS := $(if $(WHEELS),--find-links $(WHEELS),)
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true
export TOKENIZERS_PARALLELISM := false

.PHONY: help install demo test test-fast lint format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools
	# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/pip install --quiet $(PIP_LINKS) torch==2.13.0
	$(BIN)/pip install --quiet $(PIP_LINKS) -c constraints.txt -e '.[train,dev]'
	touch $@

install: $(VENV)/.installed ## create .venv and install relwatch with all extras

DEMO_OUT := .relwatch/demo

demo: install ## run every stage end to end on the embedded default (SQLite, local MLflow)
	$(RELWATCH) db upgrade
	$(RELWATCH) doctor
	@echo "== collect: Reuters-21578 from the data directory (no internet here; 'relwatch crawl' reads live feeds)"
	$(RELWATCH) sources list --country KOR
	$(RELWATCH) import reuters
	@echo "== extract: sentences, TextRank, country mentions checked by NER, pairs -> database"
	$(RELWATCH) extract --db
	@echo "== classify: labelled data, quick fine-tune of MiniLM, evaluation, int8 ONNX, MLflow registry"
	$(RELWATCH) data summary
	$(RELWATCH) train --quick
	$(RELWATCH) models promote || [ $$? -eq 1 ]   # exit 1 = the gate refused a weaker challenger
	$(RELWATCH) models list
	@mkdir -p $(DEMO_OUT)
	$(RELWATCH) predict --model models:/relwatch-relation@champion \
		--input examples/demo_sentences.jsonl --output $(DEMO_OUT)/predictions.jsonl
	@echo "== predictions ($(DEMO_OUT)/predictions.jsonl):"
	@$(BIN)/python -c "import json,sys; [print(f\"{r['label']:>11}  {max(r['probs'].values()):.2f}  {r['text'][:90]}\") for r in map(json.loads, open('$(DEMO_OUT)/predictions.jsonl'))]"
	$(RELWATCH) jobs submit doctor
	@echo "== index: the champion reads every stored pair, then the daily pair index is built"
	$(RELWATCH) predict --db
	$(RELWATCH) index build
	$(RELWATCH) index alerts --limit 10
	$(RELWATCH) index evidence --pair USA-JPN --date 1987-04-17 --limit 5
	$(RELWATCH) index show --pair USA-JPN --grain week --chart $(DEMO_OUT)/usa-jpn-week.png
	$(RELWATCH) index shifts --top 5 --window 30

test: install ## ruff, import contracts + the whole test suite (service tests need PostgreSQL/Redis; CI=true makes them mandatory)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install ## unit tests only (skips slow and service tests)
	$(BIN)/pytest -m "not slow and not services" -x -q $(PYTEST_ARGS)

lint: install ## ruff check, format check and the layer contracts (import-linter)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

format: install ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean: ## remove embedded state (.relwatch/) — keeps .venv
	rm -rf .relwatch
