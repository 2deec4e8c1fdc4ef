"""A copy kept by following the feed under concurrent writers equals a fresh read (bench/feed_sync.py, shortened):
the API server and worker as `make run` starts them, on the database this suite runs on. The bench runs it for 60 s,
three times per database (bench/RESULTS.md)."""

import pytest
from django.db import connection

from bench.feed_sync import one_run


@pytest.mark.django_db  # only to learn which database the suite runs on: the run makes a database of its own
def test_a_copy_that_follows_the_feed_under_eight_writers_equals_a_fresh_read():
    result = one_run("postgresql" if connection.vendor == "postgresql" else "sqlite", seconds=10)
    assert result["write_errors"] == [] and result["reader_errors"] == []
    assert result["writes"] > 50 and result["entries_applied"] > 50
    assert result["entries_twice"] == 0
    assert result["difference_samples"] == [] and result["differences"] == 0
    assert result["pending_variants_at_end"] == 0
