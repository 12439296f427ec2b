"""Print the self-contained HTML report to an A4 PDF with headless Chromium.

Chromium is driven through Playwright (DevTools protocol), which the command-line
`--print-to-pdf` cannot do: the PDF gets an outline (bookmarks) from the headings, a
tagged structure, and a footer "page N of M". The print runs in a child process with a
bounded time, after which it and the browser are killed; scripts are disabled and
dialogs dismissed, so nothing in the page can stall it.
Chromium stamps the PDF with the wall-clock time; `fix_dates` replaces that stamp by
a fixed one (the commit time), so two builds of one commit give identical bytes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT = 120  # seconds for the whole print (browser start, page load, PDF); EVTREPORT_PDF_TIMEOUT
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic", "--log-level=3")
# Drawn in the page's bottom margin (the print CSS keeps it free); Chromium fills in
# the numbers. The template does not inherit the page's styles, hence its own.
FOOTER = ('<div style="width:100%; margin:0 12mm; font:7.5pt \'DejaVu Sans\', Arial, '
          'sans-serif; color:#555; text-align:right;">page <span class="pageNumber"></span> '
          'of <span class="totalPages"></span></div>')
_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[+-]\d\d'\d\d'\)")


class PrintError(RuntimeError):
    """The PDF could not be printed; the message names the step and the file."""


def find_chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser",
                      "/usr/bin/chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise PrintError("printing the PDF: Chromium not found: install Debian's 'chromium' "
                     "package (`make system-deps` does it) or set CHROMIUM=/path/to/chromium")


def print_pdf(html_file: Path, pdf_file: Path, *, epoch: int | None = None,
              timeout: float | None = None, chromium: str | None = None) -> None:
    """Print `html_file` to `pdf_file`; stamp it with `epoch` (seconds, UTC) if given."""
    html_file, pdf_file = Path(html_file), Path(pdf_file)
    timeout = timeout or _timeout()
    chromium = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="evt-chromium-") as profile:
        cmd = [sys.executable, "-m", "evtreport.pdf", "--chromium", chromium,
               "--profile", profile, "--timeout", str(timeout), str(html_file), str(pdf_file)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc, profile)
            raise PrintError(f"printing the PDF: Chromium did not finish printing {html_file} "
                             f"within {timeout:g} s and was stopped (check that `{chromium} "
                             f"--version` answers; EVTREPORT_PDF_TIMEOUT=seconds allows more)") from None
        finally:
            _kill(proc, profile)  # whatever is left of the browser
    if proc.returncode != 0 or not pdf_file.exists() or pdf_file.stat().st_size == 0:
        detail = (err.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise PrintError(f"printing the PDF: Chromium could not print {html_file}: {detail[-500:]}")
    if epoch is not None:
        fix_dates(pdf_file, epoch)


def _timeout() -> float:
    value = os.environ.get("EVTREPORT_PDF_TIMEOUT", "").strip()
    try:
        timeout = float(value) if value else TIMEOUT
    except ValueError:
        timeout = 0
    if not timeout > 0:
        raise PrintError(f"printing the PDF: environment variable EVTREPORT_PDF_TIMEOUT: "
                         f"expected a number of seconds above 0, got {value!r}")
    return timeout


def _kill(proc: subprocess.Popen, profile: str) -> None:
    """Kill the print process, its descendants, and any process using the browser profile:
    Playwright starts the browser in a session of its own, which outlives a killed parent."""
    import psutil

    victims = [proc.pid]
    try:
        victims += [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        pass
    for p in psutil.process_iter(["cmdline"]):
        if any(profile in arg for arg in p.info["cmdline"] or ()):
            victims.append(p.pid)
    for pid in dict.fromkeys(victims):
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    proc.wait()


def fix_dates(pdf_file: Path, epoch: int) -> None:
    """Replace Chromium's creation and modification dates by `epoch`, in place. Same length,
    so the cross-reference offsets stay valid."""
    data = Path(pdf_file).read_bytes()
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch)).encode()
    new, n = _DATE.subn(lambda m: b"/" + m.group(1) + b" (D:" + stamp + b"+00'00')", data)
    if n != 2:
        raise PrintError(f"printing the PDF: {pdf_file} does not carry the two dates Chromium "
                         f"writes (found {n}); cannot make it reproducible")
    Path(pdf_file).write_bytes(new)


def _print(chromium: str, profile: str, timeout: float, html_file: Path, pdf_file: Path) -> None:
    from playwright.sync_api import Error, sync_playwright

    ms = timeout * 1000
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=list(CHROMIUM_FLAGS),
                timeout=ms, java_script_enabled=False, offline=True)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("dialog", lambda dialog: dialog.dismiss())
            page.set_default_timeout(ms)
            page.goto(html_file.resolve().as_uri(), wait_until="load")
            page.pdf(path=pdf_file, format="A4", prefer_css_page_size=True, print_background=True,
                     outline=True, tagged=True, display_header_footer=True,
                     header_template="<span></span>", footer_template=FOOTER)
            context.close()
    except Error as exc:
        sys.exit(_failure(str(exc)))


_BROWSER_ERR = re.compile(r"^\[pid=\d+\]\[err\] (.*)$", re.M)
_BROWSER_EXIT = re.compile(r"<process did exit: exitCode=(\d+)")


def _failure(message: str) -> str:
    """One line from Playwright's error: when the browser itself failed, its exit status and
    the last thing it wrote to stderr (Playwright's own first line says only "closed")."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    code = _BROWSER_EXIT.search(message)
    errors = [e.strip() for e in _BROWSER_ERR.findall(message) if e.strip()]
    if code and code.group(1) != "0":
        return f"the browser exited (exit {code.group(1)}): {errors[-1] if errors else first}"
    return first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evtreport.pdf", description=__doc__)
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--timeout", type=float, default=TIMEOUT)
    parser.add_argument("html", type=Path)
    parser.add_argument("pdf", type=Path)
    args = parser.parse_args(argv)
    _print(args.chromium, args.profile, args.timeout, args.html, args.pdf)


if __name__ == "__main__":
    main()
