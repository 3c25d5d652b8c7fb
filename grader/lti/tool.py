"""The tool as the routes use it: a login answered, a launch turned into its page, an
instructor's choice turned into a deep-linking answer, a learner's form turned into a new
submission. Every step's checks are in ``launch``; this module decides what each launch
may reach: an instructor the picker and the instructor's page, a learner only the exercise.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from grader.catalog.exercises import UnknownExercise
from grader.catalog.spec import ExerciseSpec
from grader.grading.inputs import new_seed
from grader.lti import claims as c
from grader.lti.claims import LaunchRefused
from grader.lti.deep_linking import resource_link, response_jwt, score_maximum
from grader.lti.keys import ToolKeys
from grader.lti.launch import Launch, Launches
from grader.lti.pages import Page, instructor_page, learner_page, picker_page, post_back_page
from grader.lti.passback import Deliverer
from grader.lti.signed import Signer
from grader.service.published import Published
from grader.service.submissions import NewSubmission
from grader.storage.lti import LTI_SCOPE
from grader.storage.store import Store

TICKET_SECONDS = 4 * 3600  # a learner's exercise page stays usable this long
PICKER_SECONDS = 3600


class Tool:
    def __init__(self, store: Store, published: Published, hidden_secret: bytes,
                 poll_seconds: float = 1.0) -> None:
        self.store = store
        self.published = published
        self.signer = Signer(hidden_secret)
        self.keys = ToolKeys(store)
        self.launches = Launches(store, self.signer)
        self.deliverer = Deliverer(store, self.keys, poll_seconds)

    def login(self, params: Mapping[str, str], base_url: str) -> str:
        return self.launches.login(params, f"{base_url}/lti/launch")

    def launch(self, form: Mapping[str, str]) -> Page:
        """The page of a launch that passed its checks."""
        launch = self.launches.launch(form.get("id_token"), form.get("state"))
        if launch.message_type == c.DEEP_LINKING_REQUEST:
            if not launch.instructor:
                raise LaunchRefused("only an instructor may add an exercise to a course")
            return self._picker(launch)
        spec = self._spec(launch.exercise_id)
        if launch.instructor:
            return instructor_page(spec)
        ticket = self.signer.sign("ticket", {
            "p": launch.platform.id, "u": launch.user, "e": spec.id, "l": launch.lineitem},
            TICKET_SECONDS)
        return learner_page(spec, ticket)

    def _spec(self, exercise_id: str | None) -> ExerciseSpec:
        if exercise_id is None:
            raise LaunchRefused("the link names no exercise (its custom parameter 'exercise')")
        try:
            return self.published.get(exercise_id).spec
        except UnknownExercise:
            raise LaunchRefused(f"this grader has no exercise {exercise_id!r}") from None

    def _picker(self, launch: Launch) -> Page:
        settings = launch.deep_linking
        ticket = self.signer.sign("picker", {
            "p": launch.platform.id, "r": settings["deep_link_return_url"],
            "d": settings.get("data")}, PICKER_SECONDS)
        self.published.refresh()
        specs = [(e.spec, score_maximum(e.spec)) for e in self.published.catalog]
        return picker_page(specs, ticket)

    def deep_link(self, form: Mapping[str, str], base_url: str) -> Page:
        """The instructor's choice, posted back to the platform as a signed answer."""
        picked = self.signer.open("picker", form.get("ticket", ""))
        platform = self.store.lti_platform(int(picked["p"]))
        if platform is None:
            raise LaunchRefused("the platform is no longer registered")
        spec = self._spec(form.get("exercise"))
        data = picked.get("d")
        token = response_jwt(self.keys, platform, [resource_link(base_url, spec)],
                             data if isinstance(data, str) else None)
        return post_back_page(str(picked["r"]), token, secrets.token_urlsafe(16))

    def submission(self, form: Mapping[str, str]) -> NewSubmission:
        """A learner's code, from the exercise page, as a submission of that launch: stored
        under the platform's scope, with where its grade goes."""
        ticket = self.signer.open("ticket", form.get("ticket", ""))
        source = form.get("source")
        if not source:
            raise LaunchRefused("the form has no code")
        if "\x00" in source:  # as the JSON API refuses it: no file of code holds one
            raise LaunchRefused("the code holds a NUL character, which Python source cannot")
        platform = int(ticket["p"])
        metadata: dict[str, Any] = {}
        if ticket.get("l"):
            metadata["lti"] = {"platform": platform, "user": ticket["u"],
                               "lineitem": ticket["l"]}
        return NewSubmission(
            exercise_id=str(ticket["e"]), source=source, seed=new_seed(),
            scope=f"{LTI_SCOPE}{platform}", learner_id=f"lti:{platform}:{ticket['u']}"[:256],
            callback_url=None, metadata=metadata)

    def start(self) -> None:
        self.deliverer.start()

    def close(self) -> None:
        self.deliverer.close()
