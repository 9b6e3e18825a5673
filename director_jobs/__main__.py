"""`python -m director_jobs` runs the `director` command."""

from director_jobs.cli import main

main()
