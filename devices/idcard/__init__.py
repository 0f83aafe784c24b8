"""idcard device drivers."""
