#!/usr/bin/env bash
# Quick start: install (with icinga2, which validates the example's configuration), load the
# example pipeline into the embedded SQLite database (created and migrated on first use),
# and run every pending job once with INFO logs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --example
# Where the example writes its Icinga 2 configuration: beside the default database.
data="${XDG_DATA_HOME:-$HOME/.local/share}/director-jobs/example"
mkdir -p "$data"
# The definitions need absolute paths: fill in this checkout's examples/ and the data folder.
sed -e "s|@EXAMPLES@|$PWD/examples|g" -e "s|@DATA@|$data|g" examples/jobs.toml >"$data/jobs.toml"
.venv/bin/director apply "$data/jobs.toml"
.venv/bin/director jobs run --verbose
echo "The rendered configuration is in $data/icinga2; try: .venv/bin/director deployments list"
