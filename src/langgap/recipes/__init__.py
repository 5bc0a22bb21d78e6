"""Shipped training recipes: TOML files of ``langgap train`` settings (see langgap.training.recipes)."""
