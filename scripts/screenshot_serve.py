"""The README's picture of the web app: serve it, make a video from the bundled samples in
headless Chromium, and save the page.

    python scripts/screenshot_serve.py            # -> docs/img/serve.png

Needs the dev extra (FastAPI, uvicorn, Playwright) and Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

import talkface
from talkface.io.files import atomic_output
from talkface.serve import ServeSettings, serving

CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default="docs/img/serve.png")
    args = parser.parse_args()

    photo, speech = talkface.sample_paths()
    with serving(ServeSettings()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(url)
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
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output, suffix=".png") as tmp:
        Path(tmp).write_bytes(png)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
