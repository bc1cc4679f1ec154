"""The documentation in the repository: served where the API page says, and every link in it leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([REPO / "README.md", REPO / "forms" / "README.md", *(REPO / "docs").glob("*.md")])

_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def links(document: Path) -> list[str]:
    """Targets of the Markdown links in `document`, leaving out code, where brackets are JSON."""
    text = _FENCE.sub("", document.read_text(encoding="utf-8"))
    text = _CODE.sub("", text)
    return _LINK.findall(text)


def anchors(document: Path) -> set[str]:
    """The anchors GitHub makes of a document's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = _FENCE.sub("", document.read_text(encoding="utf-8"))
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.replace("`", "").lower()).replace(" ", "-") for h in headings}


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("/")


async def test_the_form_guide_is_served_as_markdown(client):
    guide = (REPO / "docs" / "forms.md").read_text(encoding="utf-8")
    first_heading = next(line for line in guide.splitlines() if line.startswith("# "))
    response = await client.get("/api/docs/forms")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert first_heading in response.text


async def test_the_api_page_links_the_form_guide(client):
    page = await client.get("/api/docs")
    assert page.status_code == 200 and 'href="/api/docs/forms"' in page.text


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(REPO)) for d in DOCUMENTS])
def test_every_relative_link_leads_to_a_file_in_the_repository(document):
    text = document.read_text(encoding="utf-8")
    assert "../shared" not in text, "a clone has no ../shared: describe it here or link a file of the repository"
    broken = []
    for target in filter(relative, links(document)):
        path, _, anchor = target.partition("#")
        found = (document.parent / path).resolve() if path else document
        if not found.is_relative_to(REPO) or not found.exists():
            broken.append(target)
        elif anchor and found.suffix == ".md" and anchor not in anchors(found):
            broken.append(target)
    assert broken == []

