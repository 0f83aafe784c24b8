"""qr device drivers."""
