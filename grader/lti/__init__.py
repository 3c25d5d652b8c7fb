"""LTI 1.3 (LTI Advantage): the grader as a tool that Canvas, Moodle, Open edX, Brightspace
or Sakai launch in an iframe or a new window.

- ``claims``: the specification's claim names, message types and roles, and the one error a
  refused launch raises;
- ``keys``: the tool's RSA keys (made once, rotated, published as a JWKS);
- ``signed``: short-lived values signed by the server (the login's state, a learner's
  ticket), which stand in for cookies that an LMS iframe would not send;
- ``launch``: the OIDC login redirect and the id_token's checks;
- ``deep_linking``: the signed answer that puts an exercise in a course;
- ``pages``: the HTML a launch answers with;
- ``passback``: scores posted to a platform's line items (Assignment and Grade Services).

It imports the base modules, ``storage``, ``catalog``, ``grading`` and ``service``; ``api``
and ``cli`` import it. The layer stores what it keeps through ``grader.storage.lti``; the
service writes a passback job when a launched submission is graded, and
``passback.Deliverer`` delivers it (and, at start, writes the jobs a stop left unwritten).
"""
