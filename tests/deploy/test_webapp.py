"""The web app as a person uses it: headless Chromium (Debian's chromium and chromium-driver,
installed with apt-get when missing, never downloaded at run time) loads the pages, searches
a term from a seed and opens the result; a screenshot of each page is saved under
tests/artifacts/screenshots. The JSON API, the OpenAPI description and the feeds are read
over HTTP. The app runs as `govingest serve` connected as a consumer's login role."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.deploy.helpers import VENV_BIN

SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SEED_TERM = "检查企业29136家"  # in tests/fixtures/seeds/000_10724a15dab98384.txt
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1600"]


def _has_cjk_font() -> bool:
    fc = shutil.which("fc-list")
    return bool(fc and subprocess.run([fc, ":lang=zh"], capture_output=True, text=True).stdout.strip())


def ensure_chromium() -> None:
    """Debian's packages, installed when missing (root in CI and the dev container); a CJK
    font too, so the screenshots show the Chinese text rather than empty boxes."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists() and _has_cjk_font():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium", "chromium-driver",
               "fonts-wqy-zenhei"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"cannot install chromium and chromium-driver with apt-get: {done.stderr[-500:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(seeded: tuple[str, str]) -> Iterator[str]:
    _, reader = seeded
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVINGEST_")}
    env["DATABASE_URL"] = reader
    proc = subprocess.Popen([str(VENV_BIN / "govingest"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/openapi.json", timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"govingest serve did not start: {proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.headers.get("content-type", ""), r.read()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="govingest-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _shot(driver: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), name  # type: ignore[attr-defined]
    assert path.stat().st_size > 1000


def test_search_a_seed_term_and_open_the_result(app_url: str, browser: object, seeded: tuple[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    wait = WebDriverWait(d, 30)
    d.get(app_url + "/")  # type: ignore[attr-defined]
    _shot(d, "home")
    assert "siming" in d.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    d.find_element(By.ID, "q").send_keys(SEED_TERM)  # type: ignore[attr-defined]
    d.find_element(By.ID, "go").click()  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "li.hit a.title")))
    _shot(d, "search")
    hits = d.find_elements(By.CSS_SELECTOR, "li.hit")  # type: ignore[attr-defined]
    assert hits and all("29136" in h.find_element(By.CSS_SELECTOR, "mark").text
                        or "29136" in h.text for h in hits)
    first = hits[0].find_element(By.CSS_SELECTOR, "a.title")
    first.click()
    wait.until(ec.presence_of_element_located((By.ID, "title")))
    _shot(d, "document")
    source = d.find_element(By.ID, "source").get_attribute("href")  # type: ignore[attr-defined]
    assert "29136" in d.find_element(By.ID, "text").text  # type: ignore[attr-defined]
    assert d.find_elements(By.CSS_SELECTOR, "#outline li")  # type: ignore[attr-defined]
    assert d.find_elements(By.CSS_SELECTOR, "#facts tr")  # type: ignore[attr-defined]
    api = json.loads(_get(app_url + "/api/documents?url=" + urllib.parse.quote(source, safe=""))[2])
    assert api["url"] == source and api["sections"] and api["facts"]
    d.get(app_url + "/sites/siming")  # type: ignore[attr-defined]
    _shot(d, "site")
    assert d.find_element(By.ID, "site").text == "siming"  # type: ignore[attr-defined]
    assert d.find_elements(By.CSS_SELECTOR, "#per-day td")  # type: ignore[attr-defined]
    # the page of an article with attachments lists them, and an attachment's page links back
    import psycopg

    with psycopg.connect(seeded[1]) as conn:
        article = conn.execute("SELECT parent_url, count(*) FROM v_documents WHERE parent_url IS NOT NULL "
                               "GROUP BY 1 ORDER BY 1 LIMIT 1").fetchone()
    assert article is not None
    d.get(app_url + "/documents?url=" + urllib.parse.quote(article[0], safe=""))  # type: ignore[attr-defined]
    _shot(d, "document-with-attachments")
    links = d.find_elements(By.CSS_SELECTOR, "#attachments li a")  # type: ignore[attr-defined]
    assert len(links) == article[1]
    links[0].click()
    wait.until(ec.presence_of_element_located((By.LINK_TEXT, "its page")))
    _shot(d, "attachment")


def test_api_openapi_and_feeds(app_url: str) -> None:
    status, ctype, body = _get(app_url + "/api/search?q=" + urllib.parse.quote(SEED_TERM))
    hits = json.loads(body)
    assert status == 200 and ctype.startswith("application/json")
    assert hits and {"url", "title", "snippet"} <= set(hits[0]) and "<mark>" in hits[0]["snippet"]
    spec = json.loads(_get(app_url + "/openapi.json")[2])
    assert {"/", "/search", "/api/search", "/api/documents"} <= set(spec["paths"])
    for path in ("/feeds/siming.atom", "/feeds/search.atom?q=" + urllib.parse.quote("安全生产")):
        status, ctype, body = _get(app_url + path)
        assert status == 200 and ctype.startswith("application/atom+xml")
        entries = ET.fromstring(body).findall("{http://www.w3.org/2005/Atom}entry")
        assert entries and all(e.find("{http://www.w3.org/2005/Atom}updated") is not None for e in entries)
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(app_url + "/api/documents?url=" + urllib.parse.quote("https://nowhere.gov.cn/x"))
    assert missing.value.code == 404
