"""The fleet's certificate authority: it signs the broker's certificate and the kiosks'.

Keys are ECDSA P-256 (small, fast on a Pi, understood by every OpenSSL the broker links).
A revoked kiosk certificate goes on the CRL that the broker checks at each connect.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.clock import Clock, utc_now
from protocol.errors import ConfigError
from protocol.files import write_private, write_public

CA_YEARS = 20
LEAF_YEARS = 5
CLOCK_SLACK = timedelta(hours=1)  # a kiosk whose clock is a little behind still trusts a new cert


@dataclass(frozen=True)
class IssuedCertificate:
    certificate_pem: bytes
    key_pem: bytes
    serial: int
    not_after: datetime


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Seed kiosk fleet"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def key_file(folder: Path) -> Path:
    """The CA's key, in a subfolder only the hub's user may enter (the broker may not)."""
    return folder / "private" / "ca.key"


class FleetCA:
    """The CA's key and certificate: `private/ca.key` (mode 0600, in a 0700 folder) and
    `ca.crt`, which the broker and every kiosk hold. `clock` dates what it signs."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._key = key
        self.certificate = certificate
        self._clock = clock

    @classmethod
    def create(
        cls, folder: Path, *, name: str = "Seed fleet CA", clock: Clock = utc_now
    ) -> "FleetCA":
        key = _new_key()
        now = clock()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SLACK)
            .not_valid_after(now + timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        key_file(folder).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_file(folder).parent.chmod(0o700)
        write_private(key_file(folder), _key_pem(key))
        write_public(folder / "ca.crt", certificate.public_bytes(serialization.Encoding.PEM))
        return cls(key, certificate, clock=clock)

    @staticmethod
    def exists(folder: Path) -> bool:
        return key_file(folder).exists()

    @classmethod
    def load(cls, folder: Path, *, clock: Clock = utc_now) -> "FleetCA":
        try:
            key = serialization.load_pem_private_key(key_file(folder).read_bytes(), None)
            certificate = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
        except FileNotFoundError as exc:
            raise ConfigError(
                f"no fleet CA in {folder}; create one with `seed-hub fleet init`"
            ) from exc
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"cannot read the fleet CA in {folder}: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{key_file(folder)} is not an EC key made by `seed-hub fleet init`")
        return cls(key, certificate, clock=clock)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue_server(self, hostnames: list[str]) -> IssuedCertificate:
        """The broker's certificate, valid for each host name or IP address kiosks dial."""
        names: list[x509.GeneralName] = []
        for host in hostnames:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(
            hostnames[0], ExtendedKeyUsageOID.SERVER_AUTH, x509.SubjectAlternativeName(names)
        )

    def issue_client(self, device_id: str) -> IssuedCertificate:
        """A kiosk's certificate; its common name is the device id, the broker's username."""
        return self._issue(device_id, ExtendedKeyUsageOID.CLIENT_AUTH, None)

    def _issue(
        self,
        common_name: str,
        usage: x509.ObjectIdentifier,
        alternative_names: x509.SubjectAlternativeName | None,
    ) -> IssuedCertificate:
        key = _new_key()
        now = self._clock()
        not_after = now + timedelta(days=365 * LEAF_YEARS)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SLACK)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        if alternative_names is not None:
            builder = builder.add_extension(alternative_names, critical=False)
        certificate = builder.sign(self._key, hashes.SHA256())
        return IssuedCertificate(
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
            key_pem=_key_pem(key),
            serial=certificate.serial_number,
            not_after=not_after,
        )

    def revocation_list(self, revoked: list[tuple[int, datetime]]) -> bytes:
        """A CRL of (serial, revoked at), valid for ten years: the broker re-reads it when
        the hub changes it, so it need not expire for safety."""
        now = self._clock()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - CLOCK_SLACK)
            .next_update(now + timedelta(days=3650))
        )
        for serial, revoked_at in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(revoked_at)
                .build()
            )
        crl = builder.sign(self._key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM)
