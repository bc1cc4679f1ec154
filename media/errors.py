"""The problems the photo layer raises; each carries a zh-CN `detail` for the worker on the phone.

No HTTP here: the server maps these classes to status codes and problem types.
"""

from __future__ import annotations


class MediaError(Exception):
    """Base of every problem the photo layer reports to a caller."""

    detail = "照片处理失败"

    def __init__(self, detail: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.detail)


class InvalidHash(MediaError):
    """A name that is not 64 hexadecimal characters; also keeps crafted names out of the store's paths."""

    detail = "照片名称必须是 64 位十六进制的 SHA-256 值"


class EmptyBody(MediaError):
    detail = "照片内容为空"


class TooLarge(MediaError):
    detail = "照片超过大小上限"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"照片超过大小上限（{max_bytes // (1024 * 1024)} MB）")


class HashMismatch(MediaError):
    """The bytes received do not hash to the name the phone gave: damaged in transit or a wrong name."""

    detail = "照片内容与其 SHA-256 名称不符，请重新上传"

    def __init__(self, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__()


class UnsupportedType(MediaError):
    """A declared type the stations do not accept at all (not JPEG, PNG, WebP or HEIC)."""

    detail = "只接受 JPEG、PNG、WebP 或 HEIC 格式的照片"

    def __init__(self, declared_type: str) -> None:
        self.declared_type = declared_type
        super().__init__()


class ImageRejected(MediaError):
    """Bytes that are not a readable image of the declared type, or an image too large to open safely."""

    detail = "无法读取该照片"


class PhotoNotFound(MediaError, LookupError):
    detail = "未找到该照片"


class UnknownVariant(MediaError, ValueError):
    detail = "不支持的缩略图尺寸"


class BlobNotFound(MediaError, LookupError):
    detail = "未找到该文件"


class InvalidBlobKey(MediaError, ValueError):
    """A blob name with characters or parts that could lead out of the store (`..`, a leading slash)."""

    detail = "文件名称无效"
