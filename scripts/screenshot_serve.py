"""The README's picture of the web app: serve it, make a video from the bundled samples in
headless Chromium, and save the page.

    python scripts/screenshot_serve.py            # -> docs/img/serve.png

Needs the dev extra (FastAPI, uvicorn, Playwright) and Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import expect, sync_playwright

import talkface
from talkface.io.files import atomic_output
from talkface.serve import ServeSettings, create_app

CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default="docs/img/serve.png")
    args = parser.parse_args()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(ServeSettings()), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started:
        time.sleep(0.05)
    photo, speech = talkface.sample_paths()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.goto(f"http://127.0.0.1:{sock.getsockname()[1]}/")
            page.set_input_files("#image", photo)
            expect(page.locator("#preview")).to_be_visible(timeout=30_000)
            page.set_input_files("#audio", speech)
            page.fill("#seed", "0")
            page.click("#generate")
            expect(page.locator("#status")).to_contain_text("Done", timeout=120_000)
            # a frame mid-sentence, with the mouth open (evaluate, not wait_for_function:
            # the page's Content-Security-Policy forbids evaluating strings)
            page.locator("#video").evaluate(
                "v => new Promise(done => { v.onseeked = done; v.currentTime = 1.2; })"
            )
            png = page.screenshot(full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join()
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output, suffix=".png") as tmp:
        Path(tmp).write_bytes(png)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
