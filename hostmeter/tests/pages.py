"""Reading the panel's pages in the tests, as a user sees them: BeautifulSoup (the
stdlib "html.parser" backend) parses, `Node` gives the few things the tests ask of an
element, and the helpers below read the Usage pages' lists, figures and bars."""

from urllib.parse import quote

from bs4 import BeautifulSoup, Tag
from django.urls import reverse


class Node:
    """An element of a page: its tag, attributes (each a string), parent and text."""

    def __init__(self, tag: Tag):
        self._tag = tag

    @property
    def tag(self) -> str:
        return self._tag.name

    @property
    def attrs(self) -> dict[str, str]:
        return self._tag.attrs

    @property
    def parent(self) -> "Node | None":
        return Node(self._tag.parent) if self._tag.parent is not None else None

    @property
    def disabled(self) -> bool:
        return "disabled" in self.attrs

    def text(self) -> str:
        """The text inside, whitespace collapsed (a no-break space counts as one)."""
        return " ".join(self._tag.get_text(" ").replace("\xa0", " ").split())

    def children(self, *tags: str) -> list["Node"]:
        """The child elements with one of these tags."""
        return [Node(t) for t in self._tag.find_all(list(tags), recursive=False)]

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list["Node"]:
        """Descendants by tag, CSS class and attributes (aria_label= for aria-label)."""
        wanted: dict = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        if cls is not None:
            wanted["class"] = lambda value: value is not None and cls in value.split()
        return [Node(t) for t in self._tag.find_all(tag, attrs=wanted)]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> "Node | None":
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None


def html(response) -> Node:
    """The whole page of a response. Attributes stay strings (class="a b" too)."""
    return Node(
        BeautifulSoup(response.content.decode(), "html.parser", multi_valued_attributes=None)
    )


def cells(row: Node) -> list[str]:
    return [c.text() for c in row.children("th", "td")]


def usage_table(response) -> Node:
    """The list of the reseller usage or organization site usage tab."""
    form = html(response).find("form", id="selection")
    assert form is not None and form.find("table") is not None, "no usage list on the page"
    return form.find("table")


def listed_rows(response) -> list[Node]:
    """The list's rows that hold a reseller or an organization (they have a checkbox)."""
    body = usage_table(response).find("tbody")
    return [tr for tr in body.find_all("tr") if tr.find("input", type="checkbox")]


def listed_names(response) -> list[str]:
    """The names in the list, top to bottom (the link of the Name column)."""
    return [row.find("a").text() for row in listed_rows(response)]


def row_of(response, name: str) -> Node:
    for row in listed_rows(response):
        if row.find("a").text() == name:
            return row
    raise AssertionError(f"{name} is not listed")


def column_headers(response) -> list[str]:
    head = usage_table(response).find("thead")
    return [text.replace("▲", "").replace("▼", "").strip() for text in cells(head.find("tr"))]


def figure_rows(response) -> dict[str, list[str]]:
    """Resource → the other cells of its row in the figures tables (limit … usage %)."""
    rows = {}
    for table in html(response).find_all("table", cls="figures"):
        for tr in table.find("tbody").find_all("tr"):
            row = cells(tr)
            rows[row[0]] = row[1:]
    return rows


def facts(response) -> dict[str, str]:
    """The overview's "term: description" facts."""
    found = {}
    for dl in html(response).find_all("dl"):
        terms = dl.children("dt", "dd")
        for term, description in zip(terms[::2], terms[1::2], strict=False):
            found[term.text()] = description.text()
    return found


def messages_of(response) -> list[str]:
    box = html(response).find("ul", cls="messages")
    return [li.text() for li in box.find_all("li")] if box else []


def action_bar(response) -> dict[str, bool]:
    """The action bar's links → enabled."""
    bar = html(response).find(id="action-bar")
    assert bar is not None, "no action bar"
    return {button.text(): not button.disabled for button in bar.find_all("button")}


def service_icons(node: Node) -> list[tuple[str, str]]:
    """(accessible name, tooltip) of each service icon in a cell."""
    icons = []
    for img in node.find_all("img"):
        tooltip = img.attrs.get("title") or (img.parent.attrs.get("title") if img.parent else "")
        icons.append((img.attrs.get("alt", ""), tooltip or ""))
    return icons


def status_line(response) -> Node:
    line = html(response).find(id="status-line")
    assert line is not None, "no status line"
    return line


def login_url(next_path: str) -> str:
    return f"{reverse('login')}?next={quote(next_path, safe='/')}"
