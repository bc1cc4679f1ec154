"""Photo layer: storage by content hash, streamed uploads, and image checks and thumbnails.

Knows nothing of HTTP or of the server; the server's routes call into it.
"""
