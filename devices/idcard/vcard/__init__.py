"""A virtual Vietnamese chip ID card of our own: answers real APDUs with BAC/PACE and secure messaging.

It runs in-process behind :class:`devices.idcard.transport.Transport` (``VirtualCardTransport``) and
behind a real pcscd through the vsmartcard ``vpcd`` driver (:mod:`devices.idcard.vcard.vpcd`).
All keys under ``testpki/`` and the CSCA in ``config/csca/`` are TEST ONLY.
"""
