#!/usr/bin/env bash
# Install what the tests need and run them all: lint, types, and the suite against SQLite
# and a PostgreSQL server the tests start themselves. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check director_jobs tests bench
.venv/bin/ruff format --check director_jobs tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
