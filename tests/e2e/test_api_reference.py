"""The API reference at /schema as a reader gets it: a page whose every asset the app serves
itself (it renders in Chromium with every other address blocked), and an OpenAPI document in
which every operation has a summary in words, a description and examples that fit its schemas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from tests.conftest import ServedApp
from tests.e2e.conftest import CHROMIUM

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document(served: ServedApp) -> dict[str, Any]:
    response = httpx.get(f"{served.base_url}/schema/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_the_reference_page_loads_only_what_the_app_serves(served: ServedApp) -> None:
    page = httpx.get(f"{served.base_url}/schema")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "https:" not in policy
    assert not re.findall(r"(?:src|href)=\"(?:https?:)?//", page.text), "an asset from elsewhere"
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts == ["/schema/redoc.standalone.js"]
    bundle = httpx.get(f"{served.base_url}{scripts[0]}")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("application/javascript")
    assert bundle.content.startswith(
        b"/*! For license information please see redoc.standalone.js.LICENSE.txt"
    )


def test_the_vendored_bundle_ships_with_its_licence() -> None:
    folder = Path(__file__).resolve().parents[2] / "api" / "static" / "redoc"

    assert "MIT License" in (folder / "LICENSE").read_text()
    assert (folder / "redoc.standalone.js.LICENSE.txt").exists()


def test_every_operation_has_a_summary_in_words_and_a_description(document: dict[str, Any]) -> None:
    for name, operation in operations(document):
        summary = operation.get("summary", "")
        assert summary, f"{name} has no summary"
        assert " " in summary and not re.fullmatch(r"(?:[A-Z][a-z0-9]+)+", summary), f"{name}: {summary!r}"
        assert len(operation.get("description", "")) > len(summary), f"{name} has no description"
        assert "docs/" in operation["description"], f"{name} does not name its docs page"


def test_every_operation_has_examples_of_what_it_takes_and_answers(document: dict[str, Any]) -> None:
    for name, operation in operations(document):
        examples = 0
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert "example" in parameter, f"{name}: path parameter {parameter['name']}"
                examples += 1
        for media in operation.get("requestBody", {}).get("content", {}).values():
            assert media.get("examples"), f"{name} has no example body"
            examples += 1
        success = next((r for status, r in operation["responses"].items() if status.startswith("2")), {})
        for media_type, media in success.get("content", {}).items():
            if media_type != "application/x-ndjson" and media.get("schema") != {"type": "null"}:
                assert media.get("examples"), f"{name} has no example answer ({media_type})"
                examples += 1
        assert examples, f"{name} has no example at all"


def test_every_json_example_fits_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for name, operation in operations(document):
        contents = [operation.get("requestBody", {}).get("content", {})]
        contents += [response.get("content", {}) for response in operation["responses"].values()]
        for content in contents:
            media = content.get("application/json")
            if not media or "examples" not in media:
                continue
            schema = {**media["schema"], "components": document["components"]}
            validator = jsonschema_rs.Draft202012Validator(schema)
            for example in media["examples"].values():
                errors = [error.message for error in validator.iter_errors(example["value"])]
                assert not errors, f"{name}: {errors}"
                checked += 1
    assert checked > 40


def test_bodies_that_are_not_json_are_documented_as_415(document: dict[str, Any]) -> None:
    for name, operation in operations(document):
        if "requestBody" in operation:
            assert "415" in operation["responses"], name


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_reference_renders_in_a_browser_without_internet(served: ServedApp, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    elsewhere: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            def only_this_server(route: Any) -> None:
                if route.request.url.startswith(served.base_url):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", only_this_server)
            page.goto(f"{served.base_url}/schema")
            page.locator("h2", has_text="Register a customer").first.wait_for(timeout=30_000)
            page.locator("h2", has_text="Record a charging session").first.wait_for()
            page.screenshot(path=str(tmp_path / "schema.png"))
        finally:
            browser.close()
    assert elsewhere == []
