"""TLS associations (PS3.15 B.1): TLS 1.2+, server certificate, client certificates.

Protects: a pynetdicom SCU with a client certificate from the configured CA can echo and
store over TLS; without a certificate (when one is required), or without TLS at all, no
association is established, and the failed handshake leaves an audit event.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt

from dimse_bridge.contexts import STUDY_ROOT_MOVE
from tests.dimse.factory import ct_instance, part10
from tests.dimse.harness import BRIDGE_AE, Bridge, query, start_bridge


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    folder: Path,
    stem: str,
    subject: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    usage: tuple[x509.ObjectIdentifier, ...] = (),
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        usage_ext = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        builder = builder.add_extension(usage_ext, critical=True)
    else:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(usage)), critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (folder / f"{stem}.key").write_bytes(key_pem)
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_cert, ca_key = _issue(folder, "ca", "cloudpacs test CA", None, ca=True)
    issuer = (ca_cert.subject, ca_key)
    # The bridge's certificate also authenticates it as a client (C-MOVE sub-associations).
    both = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)
    _issue(folder, "server", "localhost", issuer, usage=both)
    _issue(folder, "client", "CT_SCANNER_1", issuer, usage=(ExtendedKeyUsageOID.CLIENT_AUTH,))
    return Pki(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "client.pem",
        folder / "client.key",
    )


@pytest.fixture
def tls_bridge(tmp_path: Path, pki: Pki) -> Iterator[Bridge]:
    running = start_bridge(
        tmp_path,
        tls_cert=pki.server_cert,
        tls_key=pki.server_key,
        tls_ca=pki.ca,
        tls_require_client_cert=True,
    )
    yield running
    running.server.stop(grace=2)


def _client_context(pki: Pki, *, with_certificate: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=pki.ca)
    if with_certificate:
        ctx.load_cert_chain(pki.client_cert, pki.client_key)
    return ctx


def _scu() -> AE:
    ae = AE(ae_title="CT_SCANNER_1")
    ae.add_requested_context("1.2.840.10008.1.1")
    ae.add_requested_context(CTImageStorage)
    ae.acse_timeout = ae.network_timeout = 5
    return ae


def test_echo_and_store_over_tls(tls_bridge: Bridge, pki: Pki) -> None:
    tls_args = (_client_context(pki, with_certificate=True), "localhost")
    assoc = _scu().associate("127.0.0.1", tls_bridge.port, ae_title=BRIDGE_AE, tls_args=tls_args)
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0x0000
    ds = ct_instance(generate_uid(), generate_uid(), 1)
    assert assoc.send_c_store(ds).Status == 0x0000
    assoc.release()
    assert tls_bridge.services.retrieve.instances(ds.StudyInstanceUID)


def test_client_without_certificate_is_refused(tls_bridge: Bridge, pki: Pki) -> None:
    tls_args = (_client_context(pki, with_certificate=False), "localhost")
    assoc = _scu().associate("127.0.0.1", tls_bridge.port, ae_title=BRIDGE_AE, tls_args=tls_args)
    assert not assoc.is_established
    plain = _scu().associate("127.0.0.1", tls_bridge.port, ae_title=BRIDGE_AE)
    assert not plain.is_established
    reasons = [e["reason"] for e in tls_bridge.audit()]
    assert reasons.count("tls_handshake_failed") == 2


def test_c_move_to_a_tls_destination(tmp_path: Path, pki: Pki) -> None:
    """The sub-association verifies the destination against the CA, with the bridge's cert."""
    received: list[str] = []

    def on_store(event: Any) -> int:
        received.append(event.dataset.SOPInstanceUID)
        return 0

    dest = AE(ae_title="TLS_DEST")
    dest.add_supported_context(CTImageStorage, ExplicitVRLittleEndian)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pki.server_cert, pki.server_key)
    server_ctx.load_verify_locations(pki.ca)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    scp = dest.start_server(
        ("127.0.0.1", 0),
        block=False,
        ssl_context=server_ctx,
        evt_handlers=[(evt.EVT_C_STORE, on_store)],
    )
    assert scp is not None
    destinations = {"TLS_DEST": {"host": "localhost", "port": scp.server_address[1], "tls": True}}
    running = start_bridge(
        tmp_path,
        tls_cert=pki.server_cert,
        tls_key=pki.server_key,
        tls_ca=pki.ca,
        move_destinations=destinations,
    )
    try:
        ds = ct_instance(generate_uid(), generate_uid(), 1)
        assert running.services.ingest.store(part10(ds)).ok
        ae = AE(ae_title="WORKSTATION_1")
        ae.add_requested_context(STUDY_ROOT_MOVE)
        tls_args = (_client_context(pki, with_certificate=True), "localhost")
        assoc = ae.associate("127.0.0.1", running.port, ae_title=BRIDGE_AE, tls_args=tls_args)
        identifier = query(QueryRetrieveLevel="STUDY", StudyInstanceUID=ds.StudyInstanceUID)
        statuses = [s.Status for s, _ in assoc.send_c_move(identifier, "TLS_DEST", STUDY_ROOT_MOVE)]
        assoc.release()
        assert statuses[-1] == 0x0000
        assert received == [ds.SOPInstanceUID]
    finally:
        running.server.stop(grace=2)
        scp.shutdown()
