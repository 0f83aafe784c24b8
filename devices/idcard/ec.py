"""Elliptic-curve arithmetic over prime fields: PACE Generic Mapping, chip authentication, and
ECDSA verification on curves ``cryptography`` does not know.

PACE-GM needs a point addition (G' = s·G + H) and scalar multiplication on a generator that is
not the curve's own, which ``cryptography`` does not expose; a few dozen lines of Jacobian
arithmetic in Python integers do it (≈ 2–4 ms per multiplication for 256-bit curves).

Documents also carry keys with *explicit* domain parameters (the curve's p, a, b, G, n spelled out
instead of a named-curve OID: several European passports' document signers and chip keys). OpenSSL
refuses those (``UnsupportedAlgorithm``); :func:`curve_from_explicit` maps them to the named curve
they equal, and :func:`ecdsa_verify` checks a signature on any prime curve, named or not.
Not constant-time: it handles public keys and ephemeral keys of a local reader, not long-term secrets.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from devices.idcard.errors import ParseError


@dataclass(frozen=True)
class Curve:
    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    oid: str = ""      # the named curve's OBJECT IDENTIFIER ("" for an explicit curve no name matches)

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8

    @property
    def g(self) -> tuple[int, int]:
        return (self.gx, self.gy)

    def on_curve(self, pt) -> bool:
        if pt is None:
            return False
        x, y = pt
        return 0 <= x < self.p and 0 <= y < self.p and (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    # Jacobian coordinates: (X, Y, Z) ~ (X/Z², Y/Z³); None is the point at infinity
    def _double(self, P):
        if P is None:
            return None
        X, Y, Z = P
        p = self.p
        if Y == 0:
            return None
        YY = Y * Y % p
        S = 4 * X * YY % p
        ZZ = Z * Z % p
        M = (3 * X * X + self.a * ZZ * ZZ) % p
        X3 = (M * M - 2 * S) % p
        Y3 = (M * (S - X3) - 8 * YY * YY) % p
        Z3 = 2 * Y * Z % p
        return (X3, Y3, Z3)

    def _add(self, P, Q):
        if P is None:
            return Q
        if Q is None:
            return P
        p = self.p
        X1, Y1, Z1 = P
        X2, Y2, Z2 = Q
        Z1Z1, Z2Z2 = Z1 * Z1 % p, Z2 * Z2 % p
        U1, U2 = X1 * Z2Z2 % p, X2 * Z1Z1 % p
        S1, S2 = Y1 * Z2 * Z2Z2 % p, Y2 * Z1 * Z1Z1 % p
        if U1 == U2:
            return self._double(P) if S1 == S2 else None
        H = (U2 - U1) % p
        R = (S2 - S1) % p
        HH = H * H % p
        HHH = H * HH % p
        V = U1 * HH % p
        X3 = (R * R - HHH - 2 * V) % p
        Y3 = (R * (V - X3) - S1 * HHH) % p
        Z3 = Z1 * Z2 * H % p
        return (X3, Y3, Z3)

    def _affine(self, P):
        if P is None:
            return None
        X, Y, Z = P
        zi = pow(Z, -1, self.p)
        zi2 = zi * zi % self.p
        return (X * zi2 % self.p, Y * zi2 * zi % self.p)

    def mul(self, k: int, pt) -> tuple[int, int] | None:
        k %= self.n
        if k == 0 or pt is None:
            return None
        R = None
        Q = (pt[0], pt[1], 1)
        for bit in bin(k)[2:]:
            R = self._double(R)
            if bit == "1":
                R = self._add(R, Q)
        return self._affine(R)

    def add(self, p1, p2):
        a = None if p1 is None else (p1[0], p1[1], 1)
        b = None if p2 is None else (p2[0], p2[1], 1)
        return self._affine(self._add(a, b))

    def encode(self, pt) -> bytes:
        return b"\x04" + pt[0].to_bytes(self.size, "big") + pt[1].to_bytes(self.size, "big")

    def decode(self, data: bytes) -> tuple[int, int]:
        n = self.size
        if len(data) != 1 + 2 * n or data[0] != 4:
            raise ParseError(detail="EC point: not an uncompressed point of the right size")
        pt = (int.from_bytes(data[1:1 + n], "big"), int.from_bytes(data[1 + n:], "big"))
        if not self.on_curve(pt):
            raise ParseError(detail="EC point: not on the curve")
        return pt


    def params(self) -> tuple[int, int, int, int, int, int]:
        return (self.p, self.a % self.p, self.b % self.p, self.gx, self.gy, self.n)


SECP192R1 = Curve(
    "secp192r1",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFF,
    a=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFC,
    b=0x64210519E59C80E70FA7E9AB72243049FEB8DEECC146B9B1,
    gx=0x188DA80EB03090F67CBF20EB43A18800F4FF0AFD82FF1012,
    gy=0x7192B95FFC8DA78631011ED6B24CDD573F977A11E794811,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFF99DEF836146BC9B1B4D22831,
    oid="1.2.840.10045.3.1.1",
)
SECP224R1 = Curve(
    "secp224r1",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000000000000000000000001,
    a=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFE,
    b=0xB4050A850C04B3ABF54132565044B0B7D7BFD8BA270B39432355FFB4,
    gx=0xB70E0CBD6BB4BF7F321390B94A03C1D356C21122343280D6115C1D21,
    gy=0xBD376388B5F723FB4C22DFE6CD4375A05A07476444D5819985007E34,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFF16A2E0B8F03E13DD29455C5C2A3D,
    oid="1.3.132.0.33",
)
SECP256R1 = Curve(
    "secp256r1",
    p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    a=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    oid="1.2.840.10045.3.1.7",
)
SECP384R1 = Curve(
    "secp384r1",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFF,
    a=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFC,
    b=0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF,
    gx=0xAA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7,
    gy=0x3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    oid="1.3.132.0.34",
)
SECP521R1 = Curve(
    "secp521r1",
    p=0x1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF,
    a=0x1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC,
    b=0x51953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00,
    gx=0xC6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D3DBAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5BD66,
    gy=0x11839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E662C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD16650,
    n=0x1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409,
    oid="1.3.132.0.35",
)
BRAINPOOL_P192R1 = Curve(
    "brainpoolP192r1",
    p=0xC302F41D932A36CDA7A3463093D18DB78FCE476DE1A86297,
    a=0x6A91174076B1E0E19C39C031FE8685C1CAE040E5C69A28EF,
    b=0x469A28EF7C28CCA3DC721D044F4496BCCA7EF4146FBF25C9,
    gx=0xC0A0647EAAB6A48753B033C56CB0F0900A2F5C4853375FD6,
    gy=0x14B690866ABD5BB88B5F4828C1490002E6773FA2FA299B8F,
    n=0xC302F41D932A36CDA7A3462F9E9E916B5BE8F1029AC4ACC1,
    oid="1.3.36.3.3.2.8.1.1.3",
)
BRAINPOOL_P224R1 = Curve(
    "brainpoolP224r1",
    p=0xD7C134AA264366862A18302575D1D787B09F075797DA89F57EC8C0FF,
    a=0x68A5E62CA9CE6C1C299803A6C1530B514E182AD8B0042A59CAD29F43,
    b=0x2580F63CCFE44138870713B1A92369E33E2135D266DBB372386C400B,
    gx=0xD9029AD2C7E5CF4340823B2A87DC68C9E4CE3174C1E6EFDEE12C07D,
    gy=0x58AA56F772C0726F24C6B89E4ECDAC24354B9E99CAA3F6D3761402CD,
    n=0xD7C134AA264366862A18302575D0FB98D116BC4B6DDEBCA3A5A7939F,
    oid="1.3.36.3.3.2.8.1.1.5",
)
BRAINPOOL_P256R1 = Curve(
    "brainpoolP256r1",
    p=0xA9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377,
    a=0x7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9,
    b=0x26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6,
    gx=0x8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262,
    gy=0x547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997,
    n=0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
    oid="1.3.36.3.3.2.8.1.1.7",
)
BRAINPOOL_P320R1 = Curve(
    "brainpoolP320r1",
    p=0xD35E472036BC4FB7E13C785ED201E065F98FCFA6F6F40DEF4F92B9EC7893EC28FCD412B1F1B32E27,
    a=0x3EE30B568FBAB0F883CCEBD46D3F3BB8A2A73513F5EB79DA66190EB085FFA9F492F375A97D860EB4,
    b=0x520883949DFDBC42D3AD198640688A6FE13F41349554B49ACC31DCCD884539816F5EB4AC8FB1F1A6,
    gx=0x43BD7E9AFB53D8B85289BCC48EE5BFE6F20137D10A087EB6E7871E2A10A599C710AF8D0D39E20611,
    gy=0x14FDD05545EC1CC8AB4093247F77275E0743FFED117182EAA9C77877AAAC6AC7D35245D1692E8EE1,
    n=0xD35E472036BC4FB7E13C785ED201E065F98FCFA5B68F12A32D482EC7EE8658E98691555B44C59311,
    oid="1.3.36.3.3.2.8.1.1.9",
)
BRAINPOOL_P384R1 = Curve(
    "brainpoolP384r1",
    p=0x8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123ACD3A729901D1A71874700133107EC53,
    a=0x7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F8AA5814A503AD4EB04A8C7DD22CE2826,
    b=0x4A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D57CB4390295DBC9943AB78696FA504C11,
    gx=0x1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8E826E03436D646AAEF87B2E247D4AF1E,
    gy=0x8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C5315,
    n=0x8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565,
    oid="1.3.36.3.3.2.8.1.1.11",
)
BRAINPOOL_P512R1 = Curve(
    "brainpoolP512r1",
    p=0xAADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA703308717D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3,
    a=0x7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA,
    b=0x3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723,
    gx=0x81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098EFF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822,
    gy=0x7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892,
    n=0xAADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069,
    oid="1.3.36.3.3.2.8.1.1.13",
)
NIST_P256 = SECP256R1

# named curves by OID (what a SubjectPublicKeyInfo or DG14 key names)
NAMED_CURVES: dict[str, Curve] = {c.oid: c for c in (
    SECP192R1, SECP224R1, SECP256R1, SECP384R1, SECP521R1, BRAINPOOL_P192R1, BRAINPOOL_P224R1,
    BRAINPOOL_P256R1, BRAINPOOL_P320R1, BRAINPOOL_P384R1, BRAINPOOL_P512R1)}
_BY_PARAMS = {c.params(): c for c in NAMED_CURVES.values()}

# PACE standardized domain parameter IDs (BSI TR-03110 / ICAO 9303 p11 table 6)
PARAMETER_IDS: dict[int, Curve] = {8: SECP192R1, 9: BRAINPOOL_P192R1, 10: SECP224R1, 11: BRAINPOOL_P224R1,
                                   12: SECP256R1, 13: BRAINPOOL_P256R1, 14: BRAINPOOL_P320R1,
                                   15: SECP384R1, 16: BRAINPOOL_P384R1, 17: BRAINPOOL_P512R1, 18: SECP521R1}


def curve_from_explicit(p: int, a: int, b: int, gx: int, gy: int, n: int) -> Curve:
    """The named curve these explicit domain parameters equal, else an unnamed curve after a sanity check."""
    if p <= 3 or n <= 1:
        raise ParseError(detail="EC: explicit domain parameters out of range")
    key = (p, a % p, b % p, gx, gy, n)
    named = _BY_PARAMS.get(key)
    if named is not None:
        return named
    if p.bit_length() > 1024 or not p & 1:
        raise ParseError(detail="EC: explicit domain parameters out of range")
    curve = Curve("explicit", p, a % p, b % p, gx, gy, n)
    if not curve.on_curve(curve.g):
        raise ParseError(detail="EC: the explicit base point is not on the curve")
    return curve


def decode_point(curve: Curve, data: bytes) -> tuple[int, int]:
    """An uncompressed (04) or compressed (02/03) point, checked to lie on the curve."""
    n = curve.size
    if len(data) == 1 + n and data[0] in (2, 3):
        x = int.from_bytes(data[1:], "big")
        if x >= curve.p:
            raise ParseError(detail="EC point: x out of range")
        rhs = (x * x * x + curve.a * x + curve.b) % curve.p
        y = _sqrt_mod(rhs, curve.p)
        if y is None:
            raise ParseError(detail="EC point: not on the curve")
        if (y & 1) != (data[0] & 1):
            y = curve.p - y
        return (x, y)
    return curve.decode(data)


def _sqrt_mod(a: int, p: int) -> int | None:
    """Tonelli–Shanks square root modulo an odd prime (None when ``a`` is not a square)."""
    a %= p
    if a == 0:
        return 0
    if pow(a, (p - 1) // 2, p) != 1:
        return None
    if p % 4 == 3:
        return pow(a, (p + 1) // 4, p)
    q, s = p - 1, 0
    while q % 2 == 0:
        q //= 2
        s += 1
    z = 2
    while pow(z, (p - 1) // 2, p) != p - 1:
        z += 1
    m, c, t, r = s, pow(z, q, p), pow(a, q, p), pow(a, (q + 1) // 2, p)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2 = t2 * t2 % p
            i += 1
        b = pow(c, 1 << (m - i - 1), p)
        m, c, t, r = i, b * b % p, t * b * b % p, r * b % p
    return r


def ecdsa_verify(curve: Curve, point: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
    """ECDSA verification (SEC 1 §4.1.4) of ``digest`` (already hashed) on any prime curve."""
    n = curve.n
    if not (0 < r < n and 0 < s < n) or not curve.on_curve(point):
        return False
    e = int.from_bytes(digest, "big")
    excess = len(digest) * 8 - n.bit_length()
    if excess > 0:
        e >>= excess
    w = pow(s, -1, n)
    u1, u2 = e * w % n, r * w % n
    a = curve.mul(u1, curve.g) if u1 else None
    b = curve.mul(u2, point) if u2 else None
    xy = curve.add(a, b)
    return xy is not None and xy[0] % n == r


def hash_digest(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()
