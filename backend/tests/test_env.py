"""Settings read from the environment beyond one line: private keys inline or from a file."""

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.env import pem_setting


def test_a_private_key_is_read_from_the_setting_or_from_the_file_it_names(cloudfront_keys, tmp_path, monkeypatch):
    key_file = tmp_path / "cloudfront.pem"
    key_file.write_text(next(iter(cloudfront_keys.values())))
    monkeypatch.setenv("AWS_CLOUDFRONT_KEY_FILE", str(key_file))
    monkeypatch.delenv("AWS_CLOUDFRONT_KEY", raising=False)
    assert pem_setting(environ.Env(), "AWS_CLOUDFRONT_KEY") == key_file.read_text()
    monkeypatch.setenv("AWS_CLOUDFRONT_KEY", "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----")
    assert (
        pem_setting(environ.Env(), "AWS_CLOUDFRONT_KEY")
        == "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    )
    monkeypatch.delenv("AWS_CLOUDFRONT_KEY")
    monkeypatch.setenv("AWS_CLOUDFRONT_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ImproperlyConfigured, match="AWS_CLOUDFRONT_KEY_FILE: cannot read"):
        pem_setting(environ.Env(), "AWS_CLOUDFRONT_KEY")
