"""Download an uploaded file from Slack with the bot token, safely.

Slack answers a download without the ``files:read`` scope (or with a bad token) with its HTML
sign-in page and status 200, which would otherwise be "read" as a CV; that answer is refused
with a message naming the scope. The size limit is enforced from the file's metadata and the
``Content-Length`` header before the body is read, and the read itself is bounded. The token is
only ever sent to Slack's own hosts or to the configured Web API host.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlparse

SLACK_FILE_HOSTS = {"files.slack.com", "slack.com", "slack-files.com"}
TIMEOUT_S = 30


class DownloadError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _on_slack(url: str, allowed: set[str]) -> bool:
    host = urlparse(url).hostname or ""
    return host in allowed or host.endswith(".slack.com")


class _SlackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to Slack's hosts, carrying the token there and nowhere else."""

    def __init__(self, token: str, allowed: set[str]):
        self.token = token
        self.allowed = allowed

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not _on_slack(newurl, self.allowed):
            raise DownloadError("unreadable", "Slack redirected the download off Slack; "
                                              "refused.")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.add_unredirected_header("Authorization", f"Bearer {self.token}")
        return new


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def download_file(url: str | None, token: str, *, max_bytes: int, size: int = 0,
                  base_url: str = "https://slack.com/api/") -> bytes:
    if not url:
        raise DownloadError("unreadable", "Slack gave no download link for this file.")
    if size > max_bytes:
        raise DownloadError("too_large", f"The file is {_mb(size)}; the limit is "
                                         f"{_mb(max_bytes)}.")
    allowed = SLACK_FILE_HOSTS | {urlparse(base_url).hostname or ""}
    if not _on_slack(url, allowed):
        raise DownloadError("unreadable", "The file's download link is not on Slack.")
    request = urllib.request.Request(url)
    # Unredirected: urllib would otherwise copy the token onto wherever a redirect points;
    # _SlackOnlyRedirects adds it back only for Slack's own hosts.
    request.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_SlackOnlyRedirects(token, allowed))
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            content_type = response.headers.get("Content-Type", "")
            if content_type.split(";")[0].strip().lower() == "text/html":
                raise DownloadError(
                    "missing_scope", "Slack sent a sign-in page instead of the file: the app "
                                     "needs the files:read scope (ask your Slack admin).")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise DownloadError("too_large", f"The file is {_mb(int(length))}; the limit "
                                                 f"is {_mb(max_bytes)}.")
            data = response.read(max_bytes + 1)
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError("unreadable", f"Slack refused the download (HTTP {exc.code})."
                            ) from None
    except (urllib.error.URLError, TimeoutError, OSError):
        raise DownloadError("unreadable", "The download from Slack failed; please upload the "
                                          "file again.") from None
    if len(data) > max_bytes:
        raise DownloadError("too_large", f"The file is larger than the {_mb(max_bytes)} limit.")
    return data
