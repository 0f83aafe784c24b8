"""Loaded by the Schemathesis CLI (``SCHEMATHESIS_HOOKS``) in test_central_schemathesis.py: the
bundle upload is ``application/zip``, for which Schemathesis has no serializer of its own. The
generated value goes out as bytes; the server must refuse whatever it is with a documented 4xx."""
import schemathesis


@schemathesis.serializer("application/zip")
def _zip(_ctx, value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")
