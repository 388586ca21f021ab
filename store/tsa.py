"""Trusted timestamps (可信时间戳, RFC 3161) with ``rfc3161-client``.

    token = request_token("https://tsa.example/tsr", b"data")        # DER TimeStampResp bytes
    info = verify_token(token, b"data", ca_file="tsa-root.pem")     # TokenInfo or TimestampError

A token proves that `data` (by its SHA-256) existed no later than the TSA's ``genTime``. The
ledger head is stamped after each evidence pass (store.ledger.timestamp_head) and each referral
pack's manifest is stamped (alerts.referral). Verification checks the PKI status, nonce (when
given), the message imprint against the data, and - when a CA file is given - the TSA's signature
and certificate chain (rfc3161-client ``Verifier``). The same token verifies with
``openssl ts -verify -data FILE -in TOKEN.tsr -CAfile CA.pem``.

Errors: :class:`TimestampError` (network failure, HTTP status, a refused or malformed response,
a token that does not match the data or whose signature does not verify).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

CONTENT_TYPE_QUERY = "application/timestamp-query"
CONTENT_TYPE_REPLY = "application/timestamp-reply"


class TimestampError(Exception):
    pass


@dataclass
class TokenInfo:
    gen_time: datetime  # UTC, from the token
    serial: int
    policy: str
    imprint_sha256: str
    signature_checked: bool  # False when no CA file was given (imprint checked only)


def request_token(url: str, data: bytes, timeout: float = 20.0) -> bytes:
    """Ask the TSA at `url` for a token over SHA-256(`data`); returns the DER TimeStampResp,
    already checked to be granted, to carry our nonce and to match the data."""
    import httpx
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    req = (TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256)
           .cert_request(cert_request=True).nonce(nonce=True).build())
    try:
        r = httpx.post(url, content=req.as_bytes(), headers={"Content-Type": CONTENT_TYPE_QUERY}, timeout=timeout,
                       follow_redirects=False)
    except httpx.HTTPError as e:
        raise TimestampError(f"TSA {url} unreachable: {type(e).__name__}: {e}") from None
    if r.status_code != 200:
        raise TimestampError(f"TSA {url} answered HTTP {r.status_code}")
    _check(r.content, data, nonce=req.nonce, ca_file=None)
    return r.content


def _check(token: bytes, data: bytes, nonce: int | None, ca_file: str | Path | None) -> TokenInfo:
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        resp = decode_timestamp_response(token)
    except Exception as e:  # the Rust decoder raises ValueError and others for malformed DER
        raise TimestampError(f"not an RFC 3161 timestamp response ({type(e).__name__}: {e})") from None
    if PKIStatus(resp.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the TSA refused: status {resp.status} {' '.join(resp.status_string or [])}")
    info = resp.tst_info
    digest = hashlib.sha256(data).digest()
    if info.message_imprint.message != digest:
        raise TimestampError("the token was issued for other data (message imprint does not match)")
    if nonce is not None and info.nonce != nonce:
        raise TimestampError("nonce mismatch (not the answer to our request)")
    checked = False
    if ca_file:
        from cryptography import x509

        roots = x509.load_pem_x509_certificates(Path(ca_file).read_bytes())
        b = VerifierBuilder(roots=roots)
        try:
            b.build().verify_message(resp, data)
        except VerificationError as e:
            raise TimestampError(f"the token's signature does not verify against {ca_file}: {e}") from None
        checked = True
    return TokenInfo(gen_time=info.gen_time.replace(tzinfo=None) if info.gen_time.tzinfo else info.gen_time,
                     serial=info.serial_number, policy=info.policy.dotted_string,
                     imprint_sha256=digest.hex(), signature_checked=checked)


def verify_token(token: bytes, data: bytes, ca_file: str | Path | None = None) -> TokenInfo:
    """Check a stored token against `data`; with `ca_file` (PEM roots of the TSA) also the
    signature and chain. Raises :class:`TimestampError` naming what is wrong."""
    return _check(token, data, nonce=None, ca_file=ca_file)
