"""The summary PDFs (户档案摘要.pdf) rendered by typst in a small pool of worker processes of their own.

typst holds the GIL while it lays a document out (about 10 ms for a few pages): in a thread of the server's process
it would stall the event loop, and two threads would only take turns. In processes, an area's export renders the
next households' summaries on the other cores while the current household's photos are being written, and a request
for one household's archive does not hold up the others. The pool is started on first use (a server that never
archives starts no process) and shut down with the app. Workers are started by `spawn`, never forked from a
process holding an event loop, threads and database connections; they import this module only (typst and the font),
and the main module again, which is why a script that starts the server guards its main code.

The font comes with the install, never from the system: Noto Sans CJK SC, from the `noto-cjk-sans-otc` package (the
full Noto Sans CJK collection, OFL). A font limited to GB 2312 would silently drop the rare characters of people's
names (喆 堃 珺), so no other font is looked for, and a missing one is an error, not a fallback. typst takes font
folders, not files: given a file it would quietly use a Latin font.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import multiprocessing.util
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import noto_cjk_sans_otc
import typst

log = logging.getLogger("doorstep.archive")

TEMPLATE = Path(__file__).with_name("archive_summary.typ")
FONT = "Noto Sans CJK SC"
COMPILER_RENDERS = 200  # renders by one typst compiler before a worker makes a fresh one


class SummaryRenderer:
    """The worker processes that render summaries: at most `workers` PDFs are made at once."""

    def __init__(self, workers: int | None = None) -> None:
        # One core is left to the event loop, which writes the photos of an export and serves the requests: on two
        # cores, one renderer made an export faster than two (bench/area_export.py).
        self.workers = workers or max(1, min(2, (os.cpu_count() or 1) - 1))
        self._pool: ProcessPoolExecutor | None = None

    async def render(self, data: bytes, images: dict[str, bytes], timestamp: int) -> bytes:
        """The PDF of the template with `data` as its data.json and `images` the files beside it."""
        pool = self._pool or self._start()
        try:
            pdf, warnings = await asyncio.get_running_loop().run_in_executor(pool, compile_pdf, data, images,
                                                                             timestamp)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this render fails; the next one starts a fresh pool.
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise
        for warning in warnings:
            log.warning("household summary: %s", warning)
        return pdf

    def _start(self) -> ProcessPoolExecutor:
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=fonts)
        return self._pool

    def close(self, wait: bool = False) -> None:
        """Stop the workers (the app's shutdown); renders still queued are cancelled."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)


def compile_pdf(data: bytes, images: dict[str, bytes], timestamp: int) -> tuple[bytes, list[str]]:
    """In a worker: the PDF, and typst's warnings as text. The files are written to the worker's own folder, which is
    the document's root: the template reads nothing else, and the files of one render are removed after it."""
    folder, compiler = _workspace()
    written = [folder / "data.json"] + [folder / name for name in images]
    try:
        written[0].write_bytes(data)
        for name, image in images.items():
            (folder / name).write_bytes(image)
        pdf, warnings = compiler.compile_with_warnings(input=_template(), format="pdf", timestamp=timestamp)
        return pdf, [warning.message for warning in warnings]
    finally:
        for path in written:
            path.unlink(missing_ok=True)


_state: dict = {"renders": 0}


def _workspace() -> tuple[Path, typst.Compiler]:
    """The worker's folder and compiler, made on its first render: a compiler kept from one render to the next
    renders a summary in about four fifths of the time (typst re-reads the files, and knows them by their name: the
    images are named by their place, `thumb-1.jpg`, so that it holds a few at most). It is made anew every
    `COMPILER_RENDERS` renders, so that what it keeps does not grow with an area's size."""
    if "folder" not in _state:
        _state["folder"] = Path(tempfile.mkdtemp(prefix="doorstep-summary-"))
        # Removed when the worker leaves (the pool's shutdown): multiprocessing runs these, not atexit's.
        multiprocessing.util.Finalize(None, shutil.rmtree, (_state["folder"], True), exitpriority=0)
    if _state["renders"] % COMPILER_RENDERS == 0:
        _state["compiler"] = typst.Compiler(root=str(_state["folder"]), font_paths=fonts(), ignore_system_fonts=True)
    _state["renders"] += 1
    return _state["folder"], _state["compiler"]


@functools.cache
def _template() -> bytes:
    return TEMPLATE.read_bytes()


@functools.cache
def fonts() -> typst.Fonts:
    """The installed CJK font, loaded once per worker (about 20 ms)."""
    folder = Path(str(noto_cjk_sans_otc.FONT_PATH)).parent
    found = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(folder)])
    if FONT not in found.families():
        raise RuntimeError(f"{FONT} is missing from {folder}: reinstall the noto-cjk-sans-otc package")
    return found
