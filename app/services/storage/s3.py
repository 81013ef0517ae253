"""The file store on S3 (and compatible servers), through fs-s3fs.

fs-s3fs turns S3's refusals into pyfilesystem errors, but lets botocore's own
errors out: an endpoint that does not answer, a timeout, credentials that cannot
be found. They mean the store is away, like the others: StorageError, so a
download answers 503 and a render or job is tried again instead of failing.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError

from app.services.storage.store import FileStore


class S3FileStore(FileStore):
    backend_errors = (BotoCoreError,)
