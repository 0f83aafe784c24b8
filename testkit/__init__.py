"""Helpers shared by the tests and the benchmarks (sample dossiers, free ports, a throwaway
PostgreSQL). Not part of either installable part: setuptools does not ship this package."""
