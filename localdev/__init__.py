"""Local tooling: the bundled S3 server and the `make run` launcher."""
