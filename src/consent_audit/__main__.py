"""``python -m consent_audit`` runs the CLI."""

from consent_audit.cli import main

main()
