"""usercenter: the user center of a WeChat mini-program business."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("usercenter")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
