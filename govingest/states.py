"""The URL lifecycle's vocabulary: every `urls.state` and every `urls.last_error_kind`.

Why one module at the root of the namespace: the crawler names what went wrong, the
fetch and process stages decide how a URL ends, `db.frontier` (the one module that
writes `urls.state`) stores it, and `v_urls` readers filter on it; all of them import
these enums, so a state or an error kind exists once. `docs/consumers.md` lists them
for SQL readers (a test keeps the list and the enums equal).

Lifecycle: new → fetching (leased) → done | failed | gone. `done` and `failed` URLs
are fetched again when their `next_fetch_at` comes; `gone` ones never are.
"""
from __future__ import annotations

from enum import StrEnum


class UrlState(StrEnum):
    NEW = "new"  # known, never fetched
    FETCHING = "fetching"  # leased to a worker (lease_until, lease_owner)
    DONE = "done"  # last fetch (and parse) succeeded
    FAILED = "failed"  # last attempt failed; last_error_kind says why; retried later
    GONE = "gone"  # never fetched again: 404/410, robots.txt disallows it, out of scope


# States whose URLs are fetched (again) once next_fetch_at has come.
CLAIMABLE: tuple[UrlState, ...] = (UrlState.NEW, UrlState.DONE, UrlState.FAILED)


class ErrorKind(StrEnum):
    """Why a URL's last attempt failed (`urls.last_error_kind`); null after a success."""

    # the request (crawler/fetch.py)
    DNS_ERROR = "dns_error"  # the host name did not resolve (retried with backoff)
    CONNECT_ERROR = "connect_error"  # connection refused or reset (retried)
    TIMEOUT = "timeout"  # no answer within the read or total timeout (retried)
    SERVER_ERROR = "server_error"  # HTTP 5xx (retried)
    RATE_LIMITED = "rate_limited"  # HTTP 429 (retried after Retry-After)
    NOT_FOUND = "not_found"  # HTTP 404/410: the URL is gone
    ERROR_REDIRECT = "error_redirect"  # an article that redirects to an error or home page (re-checked)
    WITHDRAWN = "withdrawn"  # the site took the article down: its document is kept, marked withdrawn_at; re-checked daily
    FORBIDDEN = "forbidden"  # HTTP 401/403
    HTTP_ERROR = "http_error"  # any other 4xx
    TOO_LARGE = "too_large"  # the body exceeds the size limit (or a decompression bomb)
    BAD_ENCODING = "bad_encoding"  # a Content-Encoding that cannot be decoded
    BAD_REDIRECT = "bad_redirect"  # a redirect without a usable Location
    BAD_URL = "bad_url"  # a URL the HTTP client cannot request (e.g. a malformed host)
    BLOCKED_ADDRESS = "blocked_address"  # resolves to an address that is not globally routable (SSRF guard): gone
    OUT_OF_SCOPE = "out_of_scope"  # not on the site's allowed hosts: gone
    REDIRECT = "redirect"  # internal: a redirect the fetch stage turns into a frontier URL (never stored)
    REDIRECT_LOOP = "redirect_loop"  # the redirect chain comes back to itself
    TOO_MANY_REDIRECTS = "too_many_redirects"  # more than 5 redirects in a row
    # the fetch stage (workers/stages/fetch.py)
    ROBOTS_DISALLOWED = "robots_disallowed"  # robots.txt forbids the path: gone, never requested
    ROBOTS_UNAVAILABLE = "robots_unavailable"  # robots.txt cannot be read: nothing is fetched from the host
    CRAWLER_TRAP = "crawler_trap"  # a link refused as a crawler trap (crawler/traps.py): gone, never requested
    BINARY_BODY = "binary_body"  # served as HTML but the body is a binary file
    EMPTY_BODY = "empty_body"  # HTTP success with an empty body
    LEASE_LOST = "lease_lost"  # internal: the lease went to another worker (never stored)
    DEFERRED = "deferred"  # internal: the host's politeness slot is too far away; not sent (never stored)
    INTERNAL = "internal"  # a bug in govingest met on this URL (retried in 5 minutes)
    # the process stage (workers/stages/process.py, the Celery process task)
    PARSE = "parse"  # the page cannot become a document (binary, empty, no body, parser error)
    SCRIPT_FILLED = "script_filled"  # the body is filled in by script; the URL it reads is fetched instead
    NEEDS_OCR = "needs_ocr"  # a scanned attachment (PDF/OFD pages without a text layer): not stored as text
    ATTACHMENT_CORRUPT = "attachment_corrupt"  # a PDF/Office/OFD file that cannot be read (cut, damaged)
    ATTACHMENT_TOO_LARGE = "attachment_too_large"  # an attachment past a cap (file size, ZIP bomb)
    ATTACHMENT_ENCRYPTED = "attachment_encrypted"  # an attachment that needs a password
    ATTACHMENT_UNSUPPORTED = "attachment_unsupported"  # an attachment no installed reader reads (DOC without catdoc)
    PARSE_TIMEOUT = "parse_timeout"  # parsing exceeded the process task's soft time limit
    PARSE_MEMORY = "parse_memory"  # parsing exceeded the worker memory cap
    PROCESS_GAVE_UP = "process_gave_up"  # the page killed its worker on every attempt


# Error kinds that describe the content, not the fetch: a refetch that finds the same
# content (304, same hash) keeps them, and only a later successful parse clears them.
CONTENT_ERRORS: tuple[ErrorKind, ...] = (
    ErrorKind.PARSE, ErrorKind.SCRIPT_FILLED, ErrorKind.NEEDS_OCR, ErrorKind.ATTACHMENT_CORRUPT,
    ErrorKind.ATTACHMENT_TOO_LARGE, ErrorKind.ATTACHMENT_ENCRYPTED, ErrorKind.ATTACHMENT_UNSUPPORTED,
)
