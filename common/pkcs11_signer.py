"""Ed25519 signing with a key that never leaves a PKCS#11 token (an admin's flow-signing key).

Four-eyes signing (docs/flows.md, "Signing"): each admin's private key is generated INSIDE a token
(SoftHSM2 by default and in the tests; a real HSM or a smart card in production: the same code,
another ``lib``), marked sensitive and not extractable, and used only through the token after the
admin's PIN unlocks it. No process, not even the one that signs, can read the key's value: the
token signs the short message :func:`flows.bundles.signed_message` builds and returns the signature.

    with open_key(lib, "admin-lan", "flows-2026", pin) as key:      # PIN asked at that moment
        data = flows.bundles.add_signature(data, key.public_key, key.sign, name="Lan", role="approved_by")

A key that the token would let out (``CKA_SENSITIVE`` false or ``CKA_EXTRACTABLE`` true) is refused
for signing: it could have been copied. Mechanism: CKM_EDDSA on a CKK_EC_EDWARDS key (Ed25519,
what kiosks trust); SoftHSM 2.6 supports it.

python-pkcs11 is imported on first use, so a kiosk without it still imports ``common``. Every
call holds one lock: a PKCS#11 library is initialised once per process, and it is re-initialised
here (under the lock) when a token is not found — a smart card inserted after start, or a SoftHSM
configuration (``SOFTHSM2_CONF``) that changed — because most libraries fix the slot list at
initialisation.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Iterator

from common.errors import BilingualError

DEFAULT_LIB = "/usr/lib/softhsm/libsofthsm2.so"   # Debian's softhsm2 package
ED25519_OID = "1.3.101.112"

_LOCK = threading.RLock()
_LIBS: dict[str, tuple[object, str | None]] = {}   # path → (pkcs11.lib, SOFTHSM2_CONF it was initialised with)


class TokenError(BilingualError):
    """Signing with a token failed; ``code``: pkcs11_missing, pkcs11_library, no_token, no_key,
    key_ambiguous, pin_incorrect, pin_locked, no_eddsa, key_exportable, token_failed."""


def _pkcs11():
    try:
        import pkcs11  # noqa: PLC0415 - optional: only admins' machines and the central console sign
    except ImportError:
        raise TokenError(en="python-pkcs11 is not installed: signing with a token is not possible here",
                         vi="Máy này chưa cài python-pkcs11 nên không ký bằng thẻ khóa được.",
                         code="pkcs11_missing") from None
    return pkcs11


def _lib(path: str, refresh: bool = False):
    pkcs11 = _pkcs11()
    # one library file is one library, whatever the path says (a config resolves the Debian symlink
    # /usr/lib/softhsm/… to /usr/lib/x86_64-linux-gnu/softhsm/…): a second load of the same file
    # gets the same handle, and its C_Initialize fails "already initialized"
    path = os.path.realpath(path)
    conf = os.environ.get("SOFTHSM2_CONF")
    cached = _LIBS.get(path)
    if cached is not None and cached[1] == conf and not refresh:
        return cached[0]
    try:
        if cached is None:
            lib = pkcs11.lib(path)
        else:
            lib = cached[0]
            lib.reinitialize()
    except pkcs11.exceptions.PKCS11Error as exc:
        raise TokenError(en=f"cannot load the PKCS#11 library {path}: {exc}",
                         vi=f"Không nạp được thư viện thẻ khóa (PKCS#11) {path}.", code="pkcs11_library") from None
    _LIBS[path] = (lib, conf)
    return lib


def _token(path: str, token_label: str):
    pkcs11 = _pkcs11()
    for refresh in (False, True):
        try:
            return _lib(path, refresh).get_token(token_label=token_label)
        except pkcs11.exceptions.NoSuchToken:
            continue
        except pkcs11.exceptions.MultipleTokensReturned:
            raise TokenError(en=f"more than one token is labelled {token_label!r}",
                             vi=f"Có nhiều thẻ khóa cùng tên {token_label!r}.", code="no_token") from None
    raise TokenError(en=f"no token labelled {token_label!r} in {path} (is it plugged in? `softhsm2-util --show-slots`)",
                     vi=f"Không thấy thẻ khóa tên {token_label!r}. Hãy cắm thẻ hoặc kiểm tra tên thẻ.",
                     code="no_token")


@contextlib.contextmanager
def _session(path: str, token_label: str, pin: str | None, rw: bool = False):
    pkcs11 = _pkcs11()
    exc_ = pkcs11.exceptions
    with _LOCK:
        token = _token(path, token_label)
        try:
            session = token.open(user_pin=pin, rw=rw) if pin is not None else token.open(rw=rw)
        except (exc_.PinIncorrect, exc_.PinLenRange, exc_.PinInvalid):
            raise TokenError(en=f"wrong PIN for token {token_label!r}",
                             vi="Mã PIN của thẻ khóa không đúng. Nhập lại; nhập sai nhiều lần thẻ sẽ bị khóa.",
                             code="pin_incorrect") from None
        except exc_.PinLocked:
            raise TokenError(en=f"the PIN of token {token_label!r} is locked after too many wrong tries",
                             vi="Mã PIN của thẻ khóa đã bị khóa do nhập sai nhiều lần; cần người quản lý thẻ mở lại.",
                             code="pin_locked") from None
        except exc_.PKCS11Error as exc:
            raise TokenError(en=f"cannot open token {token_label!r}: {exc.__class__.__name__}",
                             vi="Không mở được thẻ khóa.", code="token_failed") from None
        try:
            yield session
        finally:
            session.close()


def _ec_point_raw(point: bytes) -> bytes:
    """The 32 raw key bytes from CKA_EC_POINT (DER OCTET STRING, as SoftHSM stores it, or raw)."""
    point = bytes(point)
    if len(point) == 34 and point[:2] == b"\x04\x20":
        return point[2:]
    if len(point) == 32:
        return point
    raise TokenError(en=f"the token's public key is not a 32-byte Ed25519 point ({len(point)} bytes)",
                     vi="Khóa công khai trong thẻ không phải khóa Ed25519.", code="no_key")


def _find(session, object_class, key_label: str, token_label: str):
    pkcs11 = _pkcs11()
    try:
        return session.get_key(object_class=object_class, key_type=pkcs11.KeyType.EC_EDWARDS, label=key_label)
    except pkcs11.exceptions.NoSuchKey:
        raise TokenError(en=f"no Ed25519 key labelled {key_label!r} in token {token_label!r}",
                         vi=f"Thẻ khóa không có khóa Ed25519 tên {key_label!r}.", code="no_key") from None
    except pkcs11.exceptions.MultipleObjectsReturned:
        raise TokenError(en=f"more than one key labelled {key_label!r} in token {token_label!r}",
                         vi=f"Thẻ khóa có nhiều khóa cùng tên {key_label!r}.", code="key_ambiguous") from None


def public_key(lib: str, token_label: str, key_label: str, pin: str | None = None) -> bytes:
    """The raw 32-byte public key of the token's key ``key_label`` (no PIN needed when the public
    object is public, as :func:`generate_key_pair` makes it)."""
    pkcs11 = _pkcs11()
    with _session(lib, token_label, pin) as session:
        pub = _find(session, pkcs11.ObjectClass.PUBLIC_KEY, key_label, token_label)
        return _ec_point_raw(pub[pkcs11.Attribute.EC_POINT])


def public_key_b64(lib: str, token_label: str, key_label: str, pin: str | None = None) -> str:
    """The public key in ``[flows].trusted_keys`` form (base64 of the raw 32 bytes)."""
    return base64.b64encode(public_key(lib, token_label, key_label, pin)).decode()


def protection(private_key) -> dict:
    """What the token says about a private key object: may its value ever leave the token?"""
    A = _pkcs11().Attribute
    out = {}
    for name, attr in (("sensitive", A.SENSITIVE), ("extractable", A.EXTRACTABLE),
                       ("always_sensitive", A.ALWAYS_SENSITIVE), ("never_extractable", A.NEVER_EXTRACTABLE)):
        try:
            out[name] = bool(private_key[attr])
        except Exception:  # noqa: BLE001 - a token that does not report it: treat as unknown
            out[name] = None
    return out


@dataclass
class TokenKey:
    """An unlocked token key, for the duration of :func:`open_key`'s ``with`` block only."""
    public_key: bytes           # raw 32 bytes
    key_id: str                 # flows.bundles.key_id: first 16 hex of sha256(public_key)
    protection: dict
    _private: object
    _token_label: str

    def sign(self, message: bytes) -> bytes:
        pkcs11 = _pkcs11()
        with _LOCK:
            try:
                return bytes(self._private.sign(message, mechanism=pkcs11.Mechanism.EDDSA))
            except (pkcs11.exceptions.MechanismInvalid, pkcs11.exceptions.KeyTypeInconsistent):
                raise TokenError(en=f"token {self._token_label!r} cannot sign with Ed25519 (CKM_EDDSA)",
                                 vi="Thẻ khóa này không ký được bằng Ed25519.", code="no_eddsa") from None
            except pkcs11.exceptions.PKCS11Error as exc:
                raise TokenError(en=f"token {self._token_label!r} failed to sign: {exc.__class__.__name__}",
                                 vi="Thẻ khóa không ký được.", code="token_failed") from None


@contextlib.contextmanager
def open_key(lib: str, token_label: str, key_label: str, pin: str) -> Iterator[TokenKey]:
    """Log in to the token with ``pin`` and yield its key ``key_label`` for signing; the session
    (and with it the login) ends with the block. Refuses a key the token would let out."""
    pkcs11 = _pkcs11()
    if not pin:
        raise TokenError(en="no PIN given", vi="Chưa nhập mã PIN của thẻ khóa.", code="pin_incorrect")
    with _session(lib, token_label, pin) as session:
        private = _find(session, pkcs11.ObjectClass.PRIVATE_KEY, key_label, token_label)
        pub = _ec_point_raw(_find(session, pkcs11.ObjectClass.PUBLIC_KEY, key_label, token_label)[pkcs11.Attribute.EC_POINT])
        prot = protection(private)
        if prot["sensitive"] is not True or prot["extractable"] is not False:
            raise TokenError(en=f"key {key_label!r} in token {token_label!r} can be exported from the token "
                                f"(sensitive={prot['sensitive']}, extractable={prot['extractable']}): it may have "
                                "been copied, so it is not used; make a new key inside the token",
                             vi="Khóa này có thể bị sao chép ra khỏi thẻ nên không được dùng để ký; "
                                "hãy tạo khóa mới ngay trong thẻ.", code="key_exportable")
        yield TokenKey(pub, hashlib.sha256(pub).hexdigest()[:16], prot, private, token_label)


def generate_key_pair(lib: str, token_label: str, key_label: str, pin: str, *, exportable: bool = False) -> bytes:
    """Make an Ed25519 key pair inside the token (private: sensitive, never extractable, stored
    on the token; public: readable without the PIN) and return the raw public key. A key of that
    label already in the token is refused. ``exportable=True`` exists only for the test that
    shows such a key is refused for signing."""
    pkcs11 = _pkcs11()
    from pkcs11.util.ec import encode_named_curve_parameters  # noqa: PLC0415

    A = pkcs11.Attribute
    with _session(lib, token_label, pin, rw=True) as session:
        if list(session.get_objects({A.LABEL: key_label})):
            raise TokenError(en=f"token {token_label!r} already holds a key labelled {key_label!r}",
                             vi=f"Thẻ khóa đã có khóa tên {key_label!r}.", code="key_ambiguous")
        try:
            params = session.create_domain_parameters(
                pkcs11.KeyType.EC_EDWARDS, {A.EC_PARAMS: encode_named_curve_parameters(ED25519_OID)}, local=True)
            pub, _ = params.generate_keypair(
                store=True, label=key_label,
                public_template={A.PRIVATE: False},
                private_template={A.SENSITIVE: not exportable, A.EXTRACTABLE: exportable, A.PRIVATE: True})
        except pkcs11.exceptions.MechanismInvalid:
            raise TokenError(en=f"token {token_label!r} cannot make Ed25519 keys",
                             vi="Thẻ khóa này không tạo được khóa Ed25519.", code="no_eddsa") from None
        return _ec_point_raw(pub[A.EC_POINT])
