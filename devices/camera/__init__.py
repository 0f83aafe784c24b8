"""camera device drivers."""
