"""CloudFront signed URLs and cookies: byte-equal to botocore's CloudFrontSigner, verifiable with the public key,
signed once per key and expiry. No CloudFront here: the signatures are checked with the key pair itself."""

import base64
import json
from datetime import UTC, datetime
from fnmatch import fnmatchcase

import pytest
from botocore.signers import CloudFrontSigner as BotocoreCloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.cloudfront import CloudFrontSigner
from testing import cloudfront_url_policy, cloudfront_verified

DOMAIN = "d111111abcdef8.cloudfront.net"


def botocore_signer(key_id: str, pem: str) -> BotocoreCloudFrontSigner:
    """botocore's signer with an RSA signer from `cryptography`, as django-storages builds it."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return BotocoreCloudFrontSigner(key_id, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()))  # noqa: S303


def signer(keys: dict[str, str], active: str | None = None) -> CloudFrontSigner:
    return CloudFrontSigner(domain=DOMAIN, keys=keys, active_key_id=active or next(iter(keys)))


def decoded(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\\"), min_size=1, max_size=60
    ),
    expires=st.integers(min_value=1_600_000_000, max_value=2_200_000_000),
)
def test_urls_are_byte_equal_to_botocores(cloudfront_keys, key, expires):
    key_id, pem = next(iter(cloudfront_keys.items()))
    ours = signer(cloudfront_keys).url(key, signed_at=expires - 3600, expires_in=3600)
    theirs = botocore_signer(key_id, pem).generate_presigned_url(
        signer(cloudfront_keys).resource(key), date_less_than=datetime.fromtimestamp(expires, UTC)
    )
    assert ours == theirs


def test_a_url_verifies_with_the_public_key_over_its_canned_policy(cloudfront_keys):
    key_id, pem = next(iter(cloudfront_keys.items()))
    url = signer(cloudfront_keys).url(
        "properties/houseforsale/7/20260101_120000_0a1b2c3d.jpg", signed_at=1_799_996_400, expires_in=3600
    )
    assert url.startswith(f"https://{DOMAIN}/properties/houseforsale/7/20260101_120000_0a1b2c3d.jpg?Expires=")
    policy, query = cloudfront_url_policy(url)
    assert query["Expires"] == "1800000000" and query["Key-Pair-Id"] == key_id
    assert cloudfront_verified(policy, query["Signature"], pem)
    other_pem = list(cloudfront_keys.values())[1]
    assert not cloudfront_verified(policy, query["Signature"], other_pem)
    # The signature covers the resource and the expiry: another of either does not verify.
    assert not cloudfront_verified(policy.replace("0a1b2c3d", "0a1b2c3e"), query["Signature"], pem)
    assert not cloudfront_verified(policy.replace("1800000000", "1900000000"), query["Signature"], pem)


def test_the_active_key_signs(cloudfront_keys):
    old_id, new_id = cloudfront_keys
    url = signer(cloudfront_keys, active=new_id).url("properties/a.jpg", signed_at=1_799_996_400, expires_in=3600)
    policy, query = cloudfront_url_policy(url)
    assert query["Key-Pair-Id"] == new_id
    assert cloudfront_verified(policy, query["Signature"], cloudfront_keys[new_id])
    assert not cloudfront_verified(policy, query["Signature"], cloudfront_keys[old_id])


def test_an_active_key_id_that_is_not_configured_is_refused(cloudfront_keys):
    with pytest.raises(ValueError, match="not among the configured keys"):
        signer(cloudfront_keys, active="KUNKNOWN")


def test_a_url_is_signed_once_per_key_expiry_and_window(cloudfront_keys, monkeypatch):
    cdn = signer(cloudfront_keys)
    signed = []
    sign = cdn.sign
    monkeypatch.setattr(cdn, "sign", lambda message: signed.append(message) or sign(message))
    window = 1_800_000_000

    def urls(expires_in: int) -> list[str]:
        return [cdn.url(f"properties/{n}.jpg", signed_at=window, expires_in=expires_in) for n in range(3)]

    first = urls(3600)
    assert urls(600) != first and len(signed) == 6  # another lifetime in between ...
    assert urls(3600) == first and len(signed) == 6  # ... keeps both remembered
    later = cdn.url("properties/0.jpg", signed_at=window + 600, expires_in=3600)  # the next window: signed anew
    assert later != first[0] and len(signed) == 7


def test_cookies_carry_a_custom_policy_for_exactly_the_resource(cloudfront_keys):
    key_id, pem = next(iter(cloudfront_keys.items()))
    cdn = signer(cloudfront_keys)
    resource = f"{cdn.resource('properties/houseforsale/7/')}*"
    cookies = cdn.cookies(resource, expires=1_800_000_000)
    assert set(cookies) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}
    policy = decoded(cookies["CloudFront-Policy"]).decode()
    assert json.loads(policy) == {
        "Statement": [
            {
                "Resource": f"https://{DOMAIN}/properties/houseforsale/7/*",
                "Condition": {"DateLessThan": {"AWS:EpochTime": 1_800_000_000}},
            }
        ]
    }
    assert cookies["CloudFront-Key-Pair-Id"] == key_id
    assert cloudfront_verified(policy, cookies["CloudFront-Signature"], pem)
    # botocore's own custom policy for the same resource and expiry is the same text.
    botocore_policy = botocore_signer(key_id, pem).build_policy(resource, datetime.fromtimestamp(1_800_000_000, UTC))
    assert policy == botocore_policy
    statement_resource = json.loads(policy)["Statement"][0]["Resource"]
    assert fnmatchcase(
        f"https://{DOMAIN}/properties/houseforsale/7/20260101_120000_0a1b2c3d_320w.webp", statement_resource
    )
    for elsewhere in ("properties/houseforsale/70/a.jpg", "properties/houseforrent/7/a.jpg", "properties/a.jpg"):
        assert not fnmatchcase(f"https://{DOMAIN}/{elsewhere}", statement_resource)
