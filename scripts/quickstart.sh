#!/usr/bin/env bash
# Quick start: install, load the example job definitions into the embedded SQLite database
# (created and migrated on first use), and run every pending job once with INFO logs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/director apply examples/jobs.toml
.venv/bin/director jobs run --verbose
