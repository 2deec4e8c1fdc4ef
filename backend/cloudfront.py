"""CloudFront signed URLs (canned policy) and signed cookies (custom policy) for the private bucket behind a
distribution: botocore's CloudFrontSigner output, each signature made once per stable window.

An RSA-SHA1 signature costs about a millisecond; a list of 100 photos asked for again and again would spend its
time there (django-storages signs anew on every url()). Within a stable window the expiry is the same, so the URL
of a key is too: it is signed once per key, window and signing key, and remembered (bounded), as the S3 presigner
does. Tests prove the URLs byte-equal to botocore's and verify them with the public key.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .presigner import WindowMemo

# django-storages' filepath_to_uri for custom-domain URLs: these stay as they are in the path.
PATH_SAFE = "/~!*()'"


def load_private_key(pem: str | bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("a CloudFront key pair is RSA")
    return key


def url_b64encode(data: bytes) -> str:
    """CloudFront's URL-safe base64: `+` `=` `/` become `-` `_` `~`."""
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


def policy(resource: str, expires: int) -> str:
    """The policy statement botocore's build_policy writes for a resource and an expiry: the canned policy of a
    URL, or, with a wildcard resource, the custom policy of a signed cookie."""
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":"))


class CloudFrontSigner:
    """Signs URLs and cookies for `https://{domain}/...` with the active one of the configured key pairs."""

    def __init__(self, *, domain: str, keys: dict[str, str | bytes], active_key_id: str, protocol: str = "https:"):
        if active_key_id not in keys:
            raise ValueError(f"the active CloudFront key id {active_key_id!r} is not among the configured keys")
        self.origin = f"{protocol}//{domain}"
        self.key_id = active_key_id
        self.private_key = load_private_key(keys[active_key_id])
        self.memo = WindowMemo()  # per signing time

    def sign(self, message: str) -> str:
        signature = self.private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's
        return url_b64encode(signature)

    def url(self, key: str, *, signed_at: int, expires_in: int, remember: bool = True) -> str:
        """The URL botocore's generate_presigned_url(url, date_less_than=signed_at + expires_in) gives for this
        key's CDN URL. Without `remember`, signed outside the window's memo (a signing time not the window's)."""
        if not remember:
            return self.signed_url(key, signed_at + expires_in)
        urls = self.memo.urls(signed_at)
        memo_key = f"{expires_in} {key}"
        signed = urls.get(memo_key)
        if signed is None:
            signed = self.memo.remember(urls, memo_key, self.signed_url(key, signed_at + expires_in))
        return signed

    def signed_url(self, key: str, expires: int) -> str:
        """The signature computation itself, without the memo."""
        resource = self.resource(key)
        signature = self.sign(policy(resource, expires))
        return f"{resource}?Expires={expires}&Signature={signature}&Key-Pair-Id={self.key_id}"

    def resource(self, key: str) -> str:
        """The CDN URL of an object key (or of a key prefix), as django-storages writes a custom domain's."""
        return f"{self.origin}/{quote(key, safe=PATH_SAFE)}"

    def cookies(self, resource: str, *, expires: int) -> dict[str, str]:
        """The three signed-cookie values for `resource` (a URL; `*` matches any characters, `/` included)."""
        statement = policy(resource, expires)
        return {
            "CloudFront-Policy": url_b64encode(statement.encode()),
            "CloudFront-Signature": self.sign(statement),
            "CloudFront-Key-Pair-Id": self.key_id,
        }
