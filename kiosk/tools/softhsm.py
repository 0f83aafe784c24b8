"""A throwaway SoftHSM2 (Debian's softhsm2) for tests and the simulated demo: its own configuration and token folder in a
temporary directory, tokens made with ``softhsm2-util``, Ed25519 keys generated INSIDE a token
through python-pkcs11 (common.pkcs11_signer.generate_key_pair: sensitive, never extractable).

SoftHSM reads ``SOFTHSM2_CONF`` when the library is initialised: set it in the process
(``monkeypatch.setenv(*hsm.env_item)``) before signing in-process, and pass ``hsm.env`` to a
subprocess (``kiosk flows sign --pkcs11 …``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from common.pkcs11_signer import DEFAULT_LIB, generate_key_pair

SO_PIN = "87654321"   # the security officer's PIN of every throwaway token: only for re-setting a user PIN


class SoftHSM:
    # the library file itself: python-pkcs11 loads a library once per path string, and
    # common.pkcs11_signer names it by its real path, so a test opening it directly must too
    lib = os.path.realpath(DEFAULT_LIB)

    def __init__(self, folder: Path):
        if not Path(self.lib).exists() or shutil.which("softhsm2-util") is None:
            raise RuntimeError(f"SoftHSM2 is not installed ({self.lib}, softhsm2-util): apt-get install softhsm2 "
                               "(scripts/apt-packages.txt)")
        self.folder = Path(folder)
        self.tokens = self.folder / "tokens"
        self.tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.conf = self.folder / "softhsm2.conf"
        self.conf.write_text(f"directories.tokendir = {self.tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
                             "slots.removable = false\n", encoding="utf-8")

    @property
    def env_item(self) -> tuple[str, str]:
        return "SOFTHSM2_CONF", str(self.conf)

    @property
    def env(self) -> dict[str, str]:
        return dict([self.env_item])

    def init_token(self, label: str, pin: str) -> None:
        """A new token (in the first free slot) with this label and user PIN."""
        import os

        out = subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin,
                              "--so-pin", SO_PIN], env={**os.environ, **self.env}, capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"softhsm2-util --init-token failed: {out.stderr or out.stdout}")

    def admin(self, token_label: str, pin: str, key_label: str = "flows", *, exportable: bool = False) -> bytes:
        """A token for one admin with one Ed25519 key made inside it; returns the raw public key.
        The process's SOFTHSM2_CONF must already be this one (``env_item``)."""
        self.init_token(token_label, pin)
        return generate_key_pair(self.lib, token_label, key_label, pin, exportable=exportable)
