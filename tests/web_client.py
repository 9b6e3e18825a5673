"""A browser's side of the web page without a browser: cookies, the login form, CSRF tokens."""

from __future__ import annotations

import html
import re
from typing import ClassVar

import httpx

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'data-csrf="([^"]*)"')


class PageClient:
    """An httpx client that keeps the session cookie, as a browser would, and never follows
    redirects itself (the tests look at them)."""

    opened: ClassVar[list[PageClient]] = []  # closed by close_all() after each test

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, headers={**HTML, **(headers or {})}, timeout=60)
        self.csrf = ""
        PageClient.opened.append(self)

    @classmethod
    def close_all(cls) -> None:
        """Close every client made so far (unclosed sockets fail the tests as warnings)."""
        while cls.opened:
            cls.opened.pop().close()

    def login(self, token: str) -> httpx.Response:
        """Post the login form; on success the cookie is kept and the CSRF token read."""
        response = self.http.post("/login", data={"token": token, "next": "/"})
        if response.status_code == 303:
            self.csrf = csrf_of(self.get("/").text)
        return response

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        """GET a page."""
        return self.http.get(path, **kwargs)  # type: ignore[arg-type]

    def post(
        self, path: str, data: dict[str, str] | None = None, csrf: bool = True
    ) -> httpx.Response:
        """POST a form, with the session's CSRF token unless told not to."""
        form = dict(data or {})
        if csrf:
            form["csrf"] = self.csrf
        return self.http.post(path, data=form)

    def close(self) -> None:
        """Close the connections."""
        self.http.close()


def csrf_of(page: str) -> str:
    """The CSRF token a page carries for its forms and script."""
    found = _CSRF.search(page)
    assert found is not None, "the page carries no CSRF token"
    return found.group(1)


def text_of(page: str) -> str:
    """A page's visible text, roughly: tags removed, entities decoded, spaces folded."""
    without_tags = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(without_tags).split())
