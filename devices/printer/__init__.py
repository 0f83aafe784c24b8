"""printer device drivers."""
