"""The report page over HTTP, in-process with a fake runner: who may open it, what it shows."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
from scipy.signal import convolve2d
from sqlalchemy import text

from grader.pages.case_outputs import REDRAW_FLOOR
from grader.sandbox.base import CaseRun, Job, Limit, RunResult
from grader.sandbox.fake import FakeRunner
from grader.service.report_pages import PAGES_KEPT, PageCache
from tests.api.conftest import (
    INSTRUCTOR,
    OTHER_PLATFORM,
    PLATFORM,
    SlowRunner,
    auth,
    correct,
    forget_drawings,
)

SUBMISSION = {"exercise_id": "conv2d", "source": "def conv(image, kernel): ..."}
TOKENS = {"platform_tokens": f"{PLATFORM},{OTHER_PLATFORM}", "instructor_tokens": INSTRUCTOR}


def flipped(image, kernel):
    return convolve2d(image, kernel, mode="valid")


def submit(client, headers=None) -> dict:
    response = client.post("/v1/submissions", json=SUBMISSION, headers=headers or {})
    assert response.status_code == 200
    return response.json()


def submit_unkept(client, headers=None) -> dict:
    """A submission as graded before the visible cases' arrays were kept: its page runs
    them again."""
    answer = submit(client, headers)
    forget_drawings(client, answer["id"])
    return answer




def test_a_page_draws_the_arrays_its_grading_kept_and_runs_nothing(make_client) -> None:
    """The same page as code run again would draw (it gives the same outputs), byte for
    byte, without running it."""
    def raises_on_tall(image, kernel):
        if image.shape[0] != image.shape[1]:
            raise ValueError("not square")
        return flipped(image, kernel)

    for function in (flipped, correct, raises_on_tall):
        runner = FakeRunner(function)
        client = make_client(runner=runner)
        answer = submit(client)
        jobs = len(runner.jobs)
        kept = client.get(answer["report_url"])
        assert kept.status_code == 200 and len(runner.jobs) == jobs
        forget_drawings(client, answer["id"])
        client.app.state.grader.pages.cache = PageCache(PAGES_KEPT)
        again = client.get(answer["report_url"])
        assert len(runner.jobs) == jobs + 1  # this one ran the visible cases again
        assert kept.text == again.text
    assert '<svg class="heatmap"' in kept.text and "not square" in kept.text


def test_a_damaged_record_of_arrays_is_a_page_without_pictures_that_runs_nothing(
        make_client) -> None:
    runner = FakeRunner(flipped)
    client = make_client(runner=runner)
    answer = submit(client)
    store = client.app.state.grader.store
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE submissions SET drawings = 'not a record' WHERE id = "
                                ":id"), {"id": answer["id"]})
    jobs = len(runner.jobs)
    page = client.get(answer["report_url"])
    assert page.status_code == 200 and len(runner.jobs) == jobs
    assert '<svg class="heatmap"' not in page.text and "differ from the expected" in page.text


def test_an_output_too_large_to_keep_says_so_on_its_page(make_client) -> None:
    runner = FakeRunner(lambda image, kernel: np.zeros((200, 200)))
    client = make_client(runner=runner)
    page = client.get(submit(client)["report_url"]).text
    assert page.count("too large to draw") == 2  # the two visible cases
    assert '<svg class="heatmap"' not in page


def test_a_page_drawn_from_kept_arrays_holds_no_drawing_place(make_client) -> None:
    """However many views at once, and however slow the code was: nothing runs, so no cap
    of drawings is met."""
    runner = FakeRunner(flipped)
    client = make_client(runner=runner, report_page_learner_limit=1)
    urls = [submit(client)["report_url"] for _ in range(3)]
    pages = client.app.state.grader.pages
    pages.renders.limit = 0  # no drawing place at all: only a page that runs nothing answers
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]


def test_a_submission_carries_a_signed_report_url_that_expires(make_client) -> None:
    body = submit(make_client())
    url = urlsplit(body["report_url"])
    assert url.path == f"/v1/submissions/{body['id']}/report"
    query = parse_qs(url.query)
    assert abs(int(query["expires"][0]) - (time.time() + 24 * 3600)) < 60
    assert re.fullmatch(r"[0-9a-f]{64}", query["signature"][0])


def test_the_signed_link_opens_the_page_without_a_token(make_client) -> None:
    client = make_client(**TOKENS)
    body = submit(client, auth(PLATFORM))
    response = client.get(body["report_url"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.text.startswith("<!DOCTYPE html>")


def test_a_tampered_signature_is_403(make_client) -> None:
    client = make_client(**TOKENS)
    body = submit(client, auth(PLATFORM))
    url = body["report_url"]
    last = url[-1]
    tampered = url[:-1] + ("0" if last != "0" else "1")
    assert client.get(tampered).status_code == 403
    # nor does a valid token make a wrong signature pass
    assert client.get(tampered, headers=auth(PLATFORM)).status_code == 403


def test_a_link_for_another_submission_is_403(make_client) -> None:
    client = make_client(**TOKENS)
    first, second = submit(client, auth(PLATFORM)), submit(client, auth(PLATFORM))
    query = urlsplit(first["report_url"]).query
    assert client.get(f"/v1/submissions/{second['id']}/report?{query}").status_code == 403


def test_an_expired_link_is_403(make_client) -> None:
    client = make_client(**TOKENS)
    body = submit(client, auth(PLATFORM))
    links = client.app.state.grader.links
    old = links.url(body["id"], now=time.time() - links.lifetime - 1)
    assert client.get(old).status_code == 403
    assert client.get(links.url(body["id"])).status_code == 200


def test_a_link_with_half_a_signature_is_403(make_client) -> None:
    client = make_client(**TOKENS)
    body = submit(client, auth(PLATFORM))
    expires = parse_qs(urlsplit(body["report_url"]).query)["expires"][0]
    page = f"/v1/submissions/{body['id']}/report"
    assert client.get(f"{page}?expires={expires}", headers=auth(PLATFORM)).status_code == 403


def test_without_a_signature_the_owner_and_instructors_may_open_it(make_client) -> None:
    client = make_client(**TOKENS)
    body = submit(client, auth(PLATFORM))
    page = f"/v1/submissions/{body['id']}/report"
    assert client.get(page, headers=auth(PLATFORM)).status_code == 200
    assert client.get(page, headers=auth(INSTRUCTOR)).status_code == 200
    assert client.get(page, headers=auth(OTHER_PLATFORM)).status_code == 404
    assert client.get(page).status_code == 401


def test_an_unknown_submission_is_404(make_client) -> None:
    client = make_client(**TOKENS)
    assert client.get("/v1/submissions/nope/report", headers=auth(PLATFORM)).status_code == 404


def test_a_failing_visible_case_shows_its_inputs_and_three_heatmaps(make_client) -> None:
    client = make_client(runner=FakeRunner(flipped))
    page = client.get(submit(client)["report_url"]).text
    sections = re.findall(r'<section class="case">.*?</section>', page, re.S)
    square = next(s for s in sections if "square 8x8" in s)
    assert square.count('<svg class="heatmap"') == 5  # image, kernel; expected, yours, difference
    assert "Input image: 8 by 8" in square and "Input kernel: 3 by 3" in square
    assert "Expected output: 6 by 6" in square and "Your output: 6 by 6" in square
    assert "the largest difference" in square
    assert "wrong values" in square
    assert '<details class="reproduce" open>' in square and "print(conv(image, kernel))" in square


def test_the_diagnosis_is_said_once_above_every_case(make_client) -> None:
    client = make_client(runner=FakeRunner(flipped))
    page = client.get(submit(client)["report_url"]).text
    hint = "you flipped the kernel (textbook convolution)"
    assert page.count(hint) == 1
    assert page.index('id="diagnosis"') < page.index(hint) < page.index('<section class="case"')
    assert "in square 8x8, tall 12x10" in page


def test_hidden_cases_show_their_status_only(make_client) -> None:
    client = make_client(runner=FakeRunner(flipped))
    page = client.get(submit(client)["report_url"]).text
    hidden = re.findall(r'<section class="case hidden">.*?</section>', page, re.S)
    assert len(hidden) == 2
    for section in hidden:
        assert "<svg" not in section and "<pre>" not in section
        assert "wrong values" in section


def test_the_learner_is_run_on_visible_inputs_only(make_client) -> None:
    runner = FakeRunner(flipped)
    client = make_client(runner=runner)
    client.get(submit_unkept(client)["report_url"])
    page_job = runner.jobs[-1]
    assert len(page_job.cases) == 2 and not any(c.hidden for c in page_job.cases)


def test_a_page_runs_the_code_within_what_its_grading_took(make_client) -> None:
    """Code that was quick when graded gets a second or so to draw its page, not its whole
    time limit (10 s for conv2d): a learner cannot hold the pages' places with it."""
    runner = FakeRunner(flipped)
    client = make_client(runner=runner)
    client.get(submit_unkept(client)["report_url"])
    limits = runner.jobs[-1].limits
    assert limits.submission_seconds == REDRAW_FLOOR and limits.case_seconds <= REDRAW_FLOOR


class TimesOut(FakeRunner):
    """A fake runner whose runs time out on the cases ``stops`` says, once ``after`` runs
    went as the function does."""

    def __init__(self, stops, after: int = 0) -> None:  # type: ignore[no-untyped-def]
        super().__init__(flipped)
        self.stops = stops
        self.after = after

    def run(self, job: Job) -> RunResult:
        result = super().run(job)
        if len(self.jobs) > self.after:
            result.cases = [CaseRun(kind="timeout", limit=Limit.CASE_CPU, limit_value=2.0)
                            if self.stops(case.args[0]) else run
                            for case, run in zip(job.cases, result.cases, strict=True)]
        return result


def test_a_page_whose_visible_cases_all_timed_out_runs_nothing(make_client) -> None:
    """A timeout when graded: nothing to draw, so the code is not run again, and each visible
    case keeps the status it was graded with."""
    runner = TimesOut(lambda image: True)
    client = make_client(runner=runner)
    url = submit_unkept(client)["report_url"]
    jobs = len(runner.jobs)
    page = client.get(url)
    assert page.status_code == 200 and len(runner.jobs) == jobs
    assert '<svg class="heatmap"' not in page.text and "time limit" in page.text


def test_a_page_runs_again_only_the_visible_cases_with_something_to_show(make_client) -> None:
    """The square case timed out when graded: the page runs the other visible case only. A
    case that raised runs again, for the line its error points at."""
    runner = TimesOut(lambda image: image.shape[0] == image.shape[1])
    client = make_client(runner=runner)
    page = client.get(submit_unkept(client)["report_url"])
    assert page.status_code == 200
    assert [case.args[0].shape for case in runner.jobs[-1].cases] == [(12, 10)]
    assert page.text.count('<svg class="heatmap"') >= 3  # the tall case's, drawn

    def raises(image, kernel):
        raise ValueError("no")
    runner = FakeRunner(raises)
    client = make_client(runner=runner)
    url = submit_unkept(client)["report_url"]
    jobs = len(runner.jobs)
    assert client.get(url).status_code == 200 and len(runner.jobs) == jobs + 1


def test_a_page_whose_run_ran_out_of_its_shorter_time_says_so_and_is_not_kept(
        make_client) -> None:
    """Right when graded, out of time when drawn: no false "another result", and a reload
    runs it again."""
    runner = TimesOut(lambda image: True, after=1)
    client = make_client(runner=runner)
    url = submit_unkept(client)["report_url"]
    page = client.get(url).text
    assert "ran out of the time this page gives it" in page and "another result" not in page
    jobs = len(runner.jobs)
    client.get(url)
    assert len(runner.jobs) == jobs + 1


def test_a_page_seen_again_runs_nothing(make_client) -> None:
    runner = FakeRunner(flipped)
    client = make_client(runner=runner)
    url = submit_unkept(client)["report_url"]
    first = client.get(url).text
    jobs = len(runner.jobs)
    assert client.get(url).text == first and len(runner.jobs) == jobs


def test_learner_text_is_escaped(make_client) -> None:
    def hostile(image, kernel):
        raise ValueError('<img src=x onerror="alert(1)"></pre><script>alert(2)</script>')

    client = make_client(runner=FakeRunner(hostile, stdout="<b>bold</b>\x1b[2J"))
    page = client.get(submit(client)["report_url"]).text
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;\\x1b[2J" in page


def test_an_empty_or_overflowing_output_is_graded_and_drawn(make_client) -> None:
    """``return []`` is an ordinary mistake, and the largest floats a learner's right to
    return: each is a verdict in a report, and a page that draws."""
    def largest(image, kernel):
        out = np.full((image.shape[0] - 2, image.shape[1] - 2), np.finfo(np.float64).max)
        out[::2] *= -1
        return out

    for output, status in ((lambda image, kernel: [], "wrong_shape"),
                           (largest, "wrong_values")):
        client = make_client(runner=FakeRunner(output))
        body = submit(client)
        assert body["status"] == "done" and body["report"]["cases"][0]["status"] == status
        response = client.get(body["report_url"])
        assert response.status_code == 200 and "Your output" in response.text


def test_a_submission_not_graded_yet_gets_a_page_that_reloads(make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner=runner)
    body = client.post("/v1/submissions?wait=false", json=SUBMISSION).json()
    page = client.get(body["report_url"]).text
    assert "not graded yet" in page and 'http-equiv="refresh"' in page
    runner.release.set()


def test_a_passing_case_says_it_matches_and_draws_no_difference(make_client, conv2d) -> None:
    client = make_client(runner=FakeRunner(conv2d.reference))
    page = client.get(submit(client)["report_url"]).text
    assert "Difference" not in page and '<svg class="heatmap"' not in page
    assert page.count('<p class="matches">matches the expected output</p>') == 2
    assert "Every case matches the expected output." in page
    assert "Score 4 of 4" in page


def test_an_exception_shows_its_message_and_line_first_and_no_heatmap(make_client) -> None:
    def raises(image, kernel):
        raise IndexError("index 9 is out of bounds for axis 0 with size 8")

    client = make_client(runner=FakeRunner(raises))
    page = client.get(submit(client)["report_url"]).text
    assert '<svg class="heatmap"' not in page
    lead = page[page.index('id="diagnosis"'):page.index("</section>")]
    assert "IndexError: index 9 is out of bounds for axis 0 with size 8" in lead
    assert "in square 8x8, tall 12x10" in lead


def test_the_statement_is_a_click_away(make_client, conv2d) -> None:
    client = make_client(runner=FakeRunner(flipped))
    page = client.get(submit(client)["report_url"]).text
    details = re.search(r'<details class="statement">.*?</details>', page, re.S)
    assert details is not None and "The exercise&#x27;s statement" in details.group()
    assert "Write `conv(image, kernel)`" in details.group()
    assert "Your code may import numpy (with numpy.fft" in details.group()  # and nothing else
    assert page.index('id="diagnosis"') < details.start() < page.index('<section class="case"')


def test_no_value_of_a_hidden_input_reaches_the_page(make_client, conv2d) -> None:
    """The page lists the visible inputs exactly, and not one value of the hidden ones."""
    from grader.grading.inputs import case_arguments
    from grader.service.secret import hidden_secret

    client = make_client(runner=FakeRunner(flipped))
    body = submit(client)
    page = client.get(body["report_url"]).text
    secret = hidden_secret(client.app.state.grader.settings)
    every = case_arguments(conv2d.spec, body["report"]["seed"], secret)
    for case, arguments in zip(conv2d.spec.cases, every, strict=True):
        values = [repr(float(v)) for a in arguments for v in a.ravel()]
        shown = [v in page for v in values]
        assert all(shown) if case.visible else not any(shown), case.name


def test_a_page_is_drawn_once_at_a_time_and_only_a_few_pages_at_once() -> None:
    from grader.service.report_pages import Renders

    renders = Renders(limit=2)
    first = renders.start(("a", "t"))
    again = renders.start(("a", "t"))
    assert first is not None and again is not None
    assert first[1] and not again[1] and again[0] is first[0]  # the second waits for the first
    assert renders.start(("b", "t")) is not None
    assert renders.start(("c", "t")) is None  # two pages are being drawn: no third
    renders.finish(("a", "t"), "<html>a</html>")
    assert again[0].result(timeout=1) == "<html>a</html>"
    assert renders.start(("c", "t")) is not None  # room again
