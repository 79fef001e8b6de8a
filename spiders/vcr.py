"""Record and replay Scrapy traffic with real vcrpy cassettes.

vcrpy patches requests, aiohttp and friends, but not Twisted, so it cannot see Scrapy's downloader.
This downloader middleware sits next to the downloader (priority 950) and asks a vcrpy cassette
itself: a recorded response is returned without touching the network; in record mode a response
that came from the network is appended. Everything above it (retries, Retry-After, decompression,
the spider) runs on replayed responses exactly as in production.

Enabled only by settings (tests, and developers recording new cassettes):
    VCR_CASSETTE_PATH   the cassette (.yaml, or .yaml.gz to keep large real pages small)
    VCR_RECORD_MODE     vcrpy's record mode; default "none" (never touch the network)
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import vcr
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.http.headers import Headers
from scrapy.responsetypes import responsetypes
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request as VcrRequest
from vcr.serialize import deserialize, serialize


class GzipAwarePersister:
    """vcrpy's filesystem persister, reading and writing gzip when the name ends in .gz."""

    @staticmethod
    def load_cassette(cassette_path: str | Path, serializer: Any) -> Any:
        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        data = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
        return deserialize(data, serializer)

    @staticmethod
    def save_cassette(cassette_path: str | Path, cassette_dict: Any, serializer: Any) -> None:
        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = serialize(cassette_dict, serializer)
        if path.suffix == ".gz":
            path.write_bytes(gzip.compress(data.encode(), mtime=0))
        else:
            path.write_text(data)


def make_vcr(record_mode: str = "none") -> vcr.VCR:
    recorder = vcr.VCR(
        record_mode=record_mode,
        match_on=["method", "scheme", "host", "port", "path", "query"],
        filter_headers=["cookie", "set-cookie", "authorization"],
        decode_compressed_response=True,
    )
    recorder.register_persister(GzipAwarePersister)
    return recorder


class VcrCassetteMiddleware:
    def __init__(self, crawler: Crawler, path: str, record_mode: str):
        self.crawler = crawler
        self.context = make_vcr(record_mode).use_cassette(path)
        self.cassette: Any = None
        crawler.signals.connect(self.open_cassette, signal=signals.spider_opened)
        crawler.signals.connect(self.close_cassette, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> VcrCassetteMiddleware:
        path = crawler.settings.get("VCR_CASSETTE_PATH")
        if not path:
            raise NotConfigured("VCR_CASSETTE_PATH is not set")
        return cls(crawler, path, crawler.settings.get("VCR_RECORD_MODE", "none"))

    def open_cassette(self) -> None:
        self.cassette = self.context.__enter__()

    def close_cassette(self) -> None:
        self.context.__exit__(None, None, None)  # vcrpy writes any newly recorded interactions

    def process_request(self, request: Request) -> Response | None:
        recorded = _vcr_request(request)
        if self.cassette.can_play_response_for(recorded):
            played = self.cassette.play_response(recorded)
            self.crawler.stats.inc_value("vcr/played")
            return _scrapy_response(request, played)
        if self.cassette.write_protected:
            self.crawler.stats.inc_value("vcr/missing")
            raise IgnoreRequest(f"no recorded response for {request.url} in the cassette")
        return None  # record mode: let the real downloader fetch it

    def process_response(self, request: Request, response: Response) -> Response:
        if "vcr" not in response.flags:
            self.cassette.append(
                _vcr_request(request),
                {
                    "status": {"code": response.status, "message": ""},
                    "headers": {
                        key.decode(): [v.decode("latin-1") for v in values]
                        for key, values in response.headers.items()
                    },
                    "body": {"string": response.body},
                },
            )
            self.crawler.stats.inc_value("vcr/recorded")
        return response


def _vcr_request(request: Request) -> VcrRequest:
    headers = {key.decode(): b", ".join(values).decode("latin-1") for key, values in request.headers.items()}
    return VcrRequest(request.method, request.url, request.body or b"", headers)


def _scrapy_response(request: Request, played: dict[str, Any]) -> Response:
    headers = Headers(played["headers"])
    body = played["body"]["string"]
    body = body.encode() if isinstance(body, str) else body
    response_class = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return response_class(
        url=request.url,
        status=played["status"]["code"],
        headers=headers,
        body=body,
        request=request,
        flags=["vcr"],
    )
