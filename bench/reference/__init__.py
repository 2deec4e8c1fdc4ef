"""A plain django-storages build of the guide, for `make bench` to measure the project against.

What a team following the guide would write: `PrivateMediaStorage(S3Boto3Storage)` with the guide's
attributes, a `PropertyImage` model on it, a ModelViewSet whose serializer presigns `image_url` and
`secure_url` with boto3 on every call, simplejwt, django-filter and page-number pagination, behind
Django's default middleware. Only what the list and `secure_url` benchmarks call is here.
"""
