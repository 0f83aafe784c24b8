"""Reference implementation of the central system the kiosks talk to."""
