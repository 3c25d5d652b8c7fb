"""The instructor's counts on real databases (SQLite, and PostgreSQL where one answers): what
a finished grading stores beside its report, an exercise's summary, and its lists."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from grader.service.graded import cases_bits, graded_of, mistakes_of, score_pct
from grader.service.instructor import diff
from grader.storage.findings import Known
from grader.storage.listing import Wanted
from grader.storage.rows import Graded
from grader.storage.store import Store
from grader.storage.summary import Filters

CASES = ["a", "b", "c", "d"]
PASS = Graded(True, 100, 0b1111, 12.0)
FLIPPED = Graded(False, 50, 0b0101, 30.0, ("flipped_kernel",))
PADDED = Graded(False, 0, 0, 8.0, ("same_padding", "flipped_kernel+same_padding"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


def submit(store: Store, learner: str | None, graded: Graded | None, version: int = 0,
           exercise: str = "conv2d", told: bool = False) -> str:
    """A stored submission, graded when ``graded`` is given; ``told``: the report is saved
    as embedded mode saves a first grading, with what it knows of the submission."""
    row, _ = store.create(exercise_id=exercise, source="def conv(i, k): ...", seed=1,
                          scope="platform", learner_id=learner, exercise_version=version)
    if graded is not None:
        store.save_report(row.id, "{}", graded,
                          known=Known(exercise, learner, first=True) if told else None)
    return row.id


@pytest.mark.parametrize("told", [False, True], ids=["read", "told"])
def test_the_summary_counts_submissions_learners_cases_and_mistakes(store: Store,
                                                                   told: bool) -> None:
    ada = [submit(store, "ada", FLIPPED, told=told), submit(store, "ada", PADDED, told=told),
           submit(store, "ada", PASS, told=told)]
    submit(store, "bob", PASS, told=told)
    cy = submit(store, "cy", FLIPPED, told=told)
    submit(store, None, PASS, told=told)
    submit(store, "dee", None)  # not graded yet
    submit(store, "bob", FLIPPED, exercise="other", told=told)
    c = store.summary("conv2d", Filters(), CASES)
    assert (c.submissions, c.graded, c.passed) == (7, 6, 3)
    assert (c.learners, c.learners_passed, c.learners_first_try) == (3, 2, 1)
    assert c.attempts_to_pass == {3: 1, 1: 1}
    assert c.median_attempts() == 2.0
    assert c.case_passed == [5, 3, 5, 3]
    assert c.histogram == [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3]
    assert [(m.mistake, m.submissions) for m in c.mistakes] == [
        ("flipped_kernel", 2), ("flipped_kernel+same_padding", 1), ("same_padding", 1)]
    assert set(c.mistakes[0].examples) == {ada[0], cy}
    assert c.mistakes[1].examples == [ada[1]]
    assert [s.duration_ms for s in c.slowest] == [30.0, 30.0, 12.0, 12.0, 12.0]


def test_an_earlier_submission_graded_later_takes_the_first_pass(store: Store) -> None:
    first, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="p",
                            learner_id="ada")
    second = submit(store, "ada", PASS)
    assert store.summary("conv2d", Filters(), CASES).attempts_to_pass == {2: 1}
    store.save_report(first.id, "{}", PASS)
    c = store.summary("conv2d", Filters(), CASES)
    assert (c.learners, c.learners_passed, c.learners_first_try) == (1, 1, 1)
    assert c.attempts_to_pass == {1: 1}
    assert store.get(second).first_pass is False  # type: ignore[union-attr]


def test_a_regrade_replaces_the_mistakes_and_moves_the_first_pass(store: Store) -> None:
    first = submit(store, "ada", PASS)
    submit(store, "ada", PASS)
    store.save_report(first, "{}", PADDED)  # graded again, now failing
    c = store.summary("conv2d", Filters(), CASES)
    assert c.attempts_to_pass == {2: 1}
    assert {m.mistake for m in c.mistakes} == {"same_padding", "flipped_kernel+same_padding"}
    store.save_report(first, "{}", FLIPPED)
    assert [m.mistake for m in store.summary("conv2d", Filters(), CASES).mistakes] == [
        "flipped_kernel"]


def test_the_distributed_finish_stores_the_same_facts(store: Store, database_url: str) -> None:
    notify = "grader_done" if database_url.startswith("postgresql") else None
    ids = []
    for graded in (FLIPPED, Graded(False, 0, 0, 3.0), PASS):
        row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="p",
                              learner_id="ada")
        claimed = store.claim(row.id, 0)
        assert claimed is not None
        assert store.finish(row.id, claimed.attempts, "{}", notify=notify, round_=0,
                            graded=graded) is not None
        ids.append(row.id)
    c = store.summary("conv2d", Filters(), CASES)
    assert (c.graded, c.passed, c.learners, c.attempts_to_pass) == (3, 1, 1, {3: 1})
    assert [m.mistake for m in c.mistakes] == ["flipped_kernel"]
    assert [store.get(i).attempt for i in ids] == [1, 2, 3]  # type: ignore[union-attr]


def test_the_summary_keeps_one_version_or_what_came_since(store: Store) -> None:
    submit(store, "ada", FLIPPED, version=1)
    submit(store, "ada", PASS, version=2)
    submit(store, "bob", PASS, version=2)
    c = store.summary("conv2d", Filters(version=2), CASES)
    assert (c.submissions, c.passed, c.learners, c.learners_passed) == (2, 2, 1, 2)
    assert store.summary("conv2d", Filters(version=1), CASES).mistakes[0].submissions == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert store.summary("conv2d", Filters(since=later), CASES).submissions == 0
    earlier = later - dt.timedelta(hours=1)
    assert store.summary("conv2d", Filters(since=earlier), CASES).submissions == 3


def test_lists_filter_by_learner_status_mistake_version_and_day(store: Store) -> None:
    a = submit(store, "ada", FLIPPED, version=1)
    b = submit(store, "ada", PASS, version=2)
    c = submit(store, "bob", PADDED, version=2)
    d = submit(store, "bob", None)

    def ids(**wanted: object) -> list[str]:
        return [r.submission_id for r in store.listed("conv2d", Wanted(**wanted), 10, 0)[0]]

    assert ids() == [d, c, b, a]
    assert ids(learner_id="ada") == [b, a]
    assert ids(status="passed") == [b]
    assert ids(status="not_passed") == [c, a]
    assert ids(status="queued") == [d]
    assert ids(mistake="flipped_kernel") == [a]
    assert ids(version=2) == [c, b]
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert ids(since=tomorrow) == [] and ids(until=tomorrow) == [d, c, b, a]
    rows, total = store.listed("conv2d", Wanted(), 2, 2)
    assert ([r.submission_id for r in rows], total) == ([b, a], 4)
    assert rows[1].mistakes == ["flipped_kernel"]
    assert [r.submission_id for r in store.of_learner("ada", 10)] == [a, b]
    counts = store.exercise_counts()["conv2d"]
    assert (counts.submissions, counts.graded, counts.passed) == (4, 3, 1)
    assert (counts.top_mistake, counts.top_mistake_count) == ("flipped_kernel", 1)


def test_mistakes_are_read_from_cases_and_either_shape_of_diagnosis() -> None:
    today = {"cases": [{"mistake": "same_padding"}, {"mistake": None},
                       {"mistake": "same_padding"}],
             "diagnosis": [{"code": "same_padding", "severity": "mistake"},
                           {"code": "valid_inside", "severity": "mistake"},
                           {"code": "modifies_input", "severity": "warning"}]}
    assert mistakes_of(today) == ["same_padding", "valid_inside"]
    redesigned = {"cases": [{"mistake": "flipped_kernel"}],
                  "diagnosis": {"name": "flipped_kernel+same_padding", "confidence": 0.9}}
    assert mistakes_of(redesigned) == ["flipped_kernel", "flipped_kernel+same_padding"]
    assert mistakes_of({"cases": "nonsense", "diagnosis": 3}) == []
    explained = {"cases": [{"mistake": "flipped_kernel"}], "diagnosis": [],
                 "explanation": {"name": "flipped_kernel+valid_in_zero_ring", "kind": "mistake"}}
    assert mistakes_of(explained) == ["flipped_kernel", "flipped_kernel+valid_in_zero_ring"]
    assert mistakes_of({"explanation": {"name": "slow_machine", "kind": "environment"}}) == []


def test_a_report_becomes_the_facts_stored_beside_it() -> None:
    report = {"passed": False, "score": 2.0, "max_score": 3.0, "duration_ms": 4.5,
              "cases": [{"passed": True}, {"passed": False, "mistake": "m"},
                        {"passed": True}], "diagnosis": []}
    assert graded_of(json.dumps(report)) == Graded(False, 66, 0b101, 4.5, ("m",))
    assert score_pct(3.0, 3.0) == 100 and score_pct(0.7, 1.0) == 70
    assert score_pct(1.0, 0.0) == 0
    assert cases_bits([True] * 64) == -1  # bit 63 is the sign of the stored integer


class TwoBundles:
    """Two pushed versions' files, as ``Publisher.files`` gives them."""

    def files(self, exercise_id: str, version: int | None) -> tuple[int, dict[str, str]]:
        reference = "def conv(i, k):\n    return i\n" if version == 1 else \
            "def conv(i, k):\n    return k\n"
        return version or 0, {"exercise.toml": 'id = "x"\n', "reference.py": reference,
                              "samples/a.py": "print()\n"}


def test_a_diff_of_two_versions_compares_their_spec_and_reference() -> None:
    found = {d.path: d.lines for d in diff(TwoBundles(), "x", 1, 2)}  # type: ignore[arg-type]
    assert found["exercise.toml"] == []
    assert "-    return i" in found["reference.py"] and "+    return k" in found["reference.py"]
    assert found["reference.py"][0] == "--- reference.py (version 1)"
    assert set(found) == {"exercise.toml", "reference.py"}
