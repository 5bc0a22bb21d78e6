"""Reports: rich tables for the terminal, matplotlib figures, report.md."""
