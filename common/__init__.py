"""The ground floor: small pieces every other package may use (the clock, and — as the code is
re-cut — bilingual errors, redaction, secret hashing, the health type). Nothing here imports
``kiosk``, ``devices``, ``flows`` or ``central``."""
