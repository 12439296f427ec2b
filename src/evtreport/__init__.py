"""Reusable logic behind the EVT evidence report: data loading and validation,
statistics, plots, tables and the build pipeline. Notebooks import from here."""

__version__ = "0.1.0"
