"""Procedure flow definitions, engine and bundles. Kivy-free."""
