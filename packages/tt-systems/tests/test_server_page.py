"""The page at GET /: its HTTP answer, and its JavaScript held to the API it calls (the fetch
targets and methods, the JSON fields it sends and reads, the headers that pass the server's
Host / Origin / Content-Type checks). No browser: the contract is read from the page's text
and exercised against a live server the way the page's script would."""

import html.parser
import json
import re

import pytest

HEALTH_FIELDS = {"status", "model", "config", "vocab_size", "limits"}


class Elements(html.parser.HTMLParser):
    """Every start tag as (tag, attributes), and the text of the <script>."""

    def __init__(self):
        super().__init__()
        self.tags, self.script, self._in_script = [], "", False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script += data


@pytest.fixture
def served(start_server, http):
    """(server, HTTP answer of GET /, parsed page)."""
    server = start_server()
    answer = http.request(server, "GET", "/")
    page = Elements()
    page.feed(answer[2].decode("utf-8"))
    return server, answer, page


def browser_headers(server):
    """What a browser sends with the page's requests: Host and Origin of the page's URL."""
    host, port = server.server_address[:2]
    return {"Host": f"{host}:{port}", "Origin": f"http://{host}:{port}"}


def test_the_page_is_html_that_may_only_talk_to_this_server(served):
    _, (status, headers, body), page = served
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert int(headers["content-length"]) == len(body) and headers["x-content-type-options"]
    policy = dict(part.strip().split(" ", 1) for part in
                  headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
    assert [tag for tag, _ in page.tags].count("script") == 1 and page.script.strip()


def test_the_page_loads_nothing_from_elsewhere(served):
    _, (_, _, body), page = served
    text = body.decode("utf-8")
    assert not [a for _, attrs in page.tags for a in attrs if a in ("src", "href", "action")]
    assert not {tag for tag, _ in page.tags} & {"link", "img", "iframe", "object", "embed"}
    assert not re.search(r"https?:|//[a-z]|url\(|@import|import\(", text, re.I)


def test_the_script_writes_answers_as_text_never_as_html(served):
    script = served[2].script
    assert "textContent" in script
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(",
                         script)


def test_every_element_the_script_uses_exists(served):
    page = served[2]
    ids = {attrs["id"] for _, attrs in page.tags if "id" in attrs}
    used = set(re.findall(r'\$\("(\w+)"\)', page.script))
    assert used and used <= ids


def test_the_fetch_targets_are_the_apis_routes_with_their_methods(served, http):
    server, _, page = served
    calls = re.findall(r'fetch\("([^"]+)"(?:,\s*\{\s*method:\s*"([A-Z]+)")?', page.script)
    targets = {(path, method or "GET") for path, method in calls}
    assert targets == {("/health", "GET"), ("/generate", "POST")}
    status, _, body = http.request(server, "GET", "/health", headers=browser_headers(server))
    assert status == 200 and set(json.loads(body)) == HEALTH_FIELDS


def test_the_fields_the_script_reads_from_health_exist(served, http):
    server, _, page = served
    health = json.loads(http.request(server, "GET", "/health")[2])
    read = set(re.findall(r"health\.(\w+)", page.script))
    assert read and read <= set(health) | {"error"}  # error: when /health is refused
    limits = set(re.findall(r"health\.limits\.(\w+)", page.script))
    assert limits and limits <= set(health["limits"])
    config = set(re.findall(r"\bc\.(\w+)", page.script))  # const c = health.config
    assert "const c = health.config" in page.script and config <= set(health["config"])


def page_request(page):
    """The body the script builds from its form's default values, and its request headers."""
    block = re.search(r"const body = \{(.*?)\};", page.script, re.S).group(1)
    fields = re.findall(r"^\s*(\w+):", block, re.M)
    inputs = {attrs["id"]: attrs.get("value", "") for tag, attrs in page.tags
              if tag == "input"}
    values = {"prompt": "the "}  # what a learner types
    for name in fields[1:]:
        values[name] = None if inputs[name] == "" else json.loads(inputs[name])
    headers = dict(re.findall(r'headers:\s*\{\s*"([\w-]+)":\s*"([^"]+)"\s*\}', page.script))
    return fields, values, headers


def test_the_request_the_page_sends_is_accepted_and_its_answer_has_what_it_shows(served, http):
    server, _, page = served
    fields, body, headers = page_request(page)
    assert fields[0] == "prompt" and set(fields) <= {"prompt", "max_new_tokens", "temperature",
                                                     "top_k", "top_p", "seed"}
    assert headers == {"Content-Type": "application/json"}
    status, _, raw = http.request(server, "POST", "/generate", body,
                                  {**headers, **browser_headers(server)})
    answer = json.loads(raw)
    assert status == 200, answer
    assert set(re.findall(r"answer\.(\w+)", page.script)) <= set(answer) | {"error"}
    assert len(answer["tokens"]) == body["max_new_tokens"]


def test_an_error_answer_has_the_field_the_page_shows(served, http):
    server, _, page = served
    _, body, headers = page_request(page)
    status, _, raw = http.request(server, "POST", "/generate", dict(body, prompt="Hi!"),
                                  {**headers, **browser_headers(server)})
    assert status == 400 and "answer.error" in page.script and json.loads(raw)["error"]


def test_a_page_elsewhere_cannot_use_the_server(served, http):
    server, _, page = served
    _, body, headers = page_request(page)
    host, port = server.server_address[:2]
    rebinding = {"Host": f"attacker.example:{port}"}  # its name now points at 127.0.0.1
    assert http.request(server, "GET", "/", headers=rebinding)[0] == 421
    assert http.request(server, "POST", "/generate", body, {**headers, **rebinding})[0] == 421
    cross_site = {"Origin": "http://attacker.example"}  # a page that posts a "simple" form
    form = {"Content-Type": "text/plain"}  # what a cross-site request can send unchecked
    assert http.request(server, "POST", "/generate", body, {**form, **cross_site})[0] == 403
    assert http.request(server, "POST", "/generate", body, form)[0] == 415  # no Origin sent
    # application/json needs a CORS preflight, which finds no Access-Control-Allow-Origin
    status, headers, _ = http.request(server, "OPTIONS", "/generate")
    assert status == 405 and not any(h.startswith("access-control") for h in headers)
