"""FAB's /api/v1/security/ endpoints, with a login that refuses bad bodies with 400.

FAB's login reads ``provider`` with a bare dict lookup (KeyError -> 500 when it
is missing) and lets a malformed JSON body reach its generic error handler. We
check the body first, default ``provider`` to this app's authentication type,
then hand over to FAB for the credentials and tokens.
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.api import SecurityApi
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response


class MonAssuranceSecurityApi(SecurityApi):
    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Response:
        if not request.is_json:
            return self.response_400(message=_("The request body must be JSON."))
        try:
            # Not silent: FAB's request.json then returns this same cached object.
            body = request.get_json()
        except BadRequest:
            return self.response_400(message=_("The request body must be a JSON object."))
        if not isinstance(body, dict):
            return self.response_400(message=_("The request body must be a JSON object."))
        body.setdefault("provider", self.appbuilder.sm.auth_type_provider_name)
        return SecurityApi.login(self)

    login.__doc__ = SecurityApi.login.__doc__
