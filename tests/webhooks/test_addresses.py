"""The SSRF guard's rules, and HTTPS to a pinned address with the certificate checked
against the URL's host name."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

from apps.webhooks.addresses import TargetRefused, check, forbidden, parse
from apps.webhooks.models import Delivery
from apps.webhooks.transport import signature
from tests.webhooks.receiver import receiving, verify
from tests.webhooks.test_delivery import hook_for, upload

REFUSED = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "127.0.0.1",
    "127.8.8.8",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",  # noqa: S104 (an address refused, not bound)
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
]
ALLOWED = ["1.1.1.1", "8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4007::64"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_forbidden(address):
    assert forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert not forbidden(ipaddress.ip_address(address))


def test_a_url_is_split_into_what_the_request_needs():
    assert parse("https://Hooks.Example.com/a/b?x=1#frag") == (
        "https",
        "hooks.example.com",
        443,
        "/a/b?x=1",
    )
    assert parse("http://1.1.1.1")[2:] == (80, "/")
    assert parse("http://bücher.example/")[1] == "xn--bcher-kva.example"


def test_every_address_is_checked_at_send_time_too(settings, names):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    names["split.example.com"] = ["1.1.1.1", "169.254.169.254"]

    with pytest.raises(TargetRefused) as refused:
        check("https://split.example.com/hook")

    assert refused.value.code == "WEBHOOK_URL_PRIVATE"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = signature("whsec_test", 1700000000, b'{"a":1}')
    computed = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", "whsec_test"],
        input=b'1700000000.{"a":1}',
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert header == f"t=1700000000,v1={computed.split()[-1]}"  # openssl agrees


def certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for the DNS name `name`, made with openssl."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.django_db
def test_https_goes_to_the_checked_address_with_the_hosts_certificate(
    private_ok, settings, names, tmp_path, user_client
):
    tls = certificate(tmp_path, "hooks.example.com")
    settings.WEBHOOK_CA_FILE = str(tls[0])
    names["hooks.example.com"] = ["127.0.0.1"]
    with receiving(tls=tls, host="hooks.example.com") as receiver:
        hook = hook_for(user_client, receiver, events=["file.created"])
        upload(user_client)

    [sent] = receiver.requests
    assert Delivery.objects.get().status == "succeeded"
    assert verify(hook["secret"], sent.headers["X-Pixelsmith-Signature"], sent.body)


@pytest.mark.django_db
def test_https_refuses_a_certificate_for_another_name(
    private_ok, settings, names, tmp_path, user_client
):
    tls = certificate(tmp_path, "other.example.com")
    settings.WEBHOOK_CA_FILE = str(tls[0])
    names["hooks.example.com"] = ["127.0.0.1"]
    with receiving(tls=tls, host="hooks.example.com") as receiver:
        hook_for(user_client, receiver, events=["file.created"])
        upload(user_client)

    delivery = Delivery.objects.get()
    assert receiver.requests == []
    assert delivery.status == "failed" and delivery.error.startswith("TLS error")
