"""The names LTI 1.3 gives to the claims of its messages, its message types and roles, and
the error of a launch that is refused."""

from __future__ import annotations

from grader.errors import GraderError

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CUSTOM = LTI + "custom"
CONTEXT = LTI + "context"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
LTI_VERSION = "1.3.0"

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
# Roles that reach the instructor's view: context and institution roles alike
TEACHING_ROLES = ("#Instructor", "#Administrator", "/Instructor", "/Administrator")


class LaunchRefused(GraderError):
    """A login or launch that fails a check of the specification's: its message says which,
    and the page answered says so (400); nothing is launched."""


def teaches(roles: object) -> bool:
    """Whether the role claim names an instructor or an administrator."""
    if not isinstance(roles, list):
        return False
    return any(isinstance(role, str) and (role.endswith(TEACHING_ROLES)
                                          or role in ("Instructor", "Administrator"))
               for role in roles)
