"""config-deploy: render monitoring objects as Icinga 2 configuration, validate and deploy it."""
