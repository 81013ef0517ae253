"""FAB's /api/v1/security/ endpoints: a checked login and a rotating refresh.

FAB's login reads ``provider`` with a bare dict lookup (KeyError -> 500 when it
is missing) and lets a malformed JSON body reach its generic error handler. We
check the body first and default ``provider`` to this app's authentication type;
FAB's ``auth_user_db`` checks the credentials (with its fake hash check for
unknown names, so both failures look and take alike).

Then, unlike FAB, every login opens a session (app/services/tokens.py) and
answers a 15-minute access token and a refresh token; ``/refresh`` spends the
refresh token and answers a new pair. Both are rate limited (app/api/limits.py).
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.schemas import login_post
from flask_babel import gettext as _
from flask_jwt_extended import get_jwt, jwt_required
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from app.api import limits
from app.api.doors import safe
from app.extensions import limiter
from app.services import tokens

MAX_DEVICE_LENGTH = 256


class MonAssuranceSecurityApi(SecurityApi):
    @expose("/login", methods=["POST"])
    @limiter.limit(limits.login_ip_limit, key_func=limits.ip_key)
    @limiter.limit(
        limits.login_account_limit,
        key_func=limits.login_account_key,
        deduct_when=limits.failed_login,
    )
    @safe
    def login(self) -> Response:
        """Log in with a user name and password: an access token and a refresh token.
        ---
        post:
          description: >-
            Check the credentials and open a session. The access token lasts
            15 minutes (JWT_ACCESS_TOKEN_MINUTES); the refresh token is spent by
            /api/v1/security/refresh, which answers a new pair. Rate limited per
            IP and per account (429 with Retry-After).
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password]
                  properties:
                    username:
                      type: string
                    password:
                      type: string
                    provider:
                      type: string
                      enum: [db]
                    refresh:
                      type: boolean
                      description: Accepted for FAB compatibility; a refresh token is always given.
                    device:
                      type: string
                      description: A label for this session (default the User-Agent).
          responses:
            200:
              description: Logged in
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            429:
              $ref: '#/components/responses/429'
        """
        if not request.is_json:
            return self.response_400(message=_("The request body must be JSON."))
        try:
            # Not silent: a malformed body is the client's error, not an empty body.
            body = request.get_json()
        except BadRequest:
            return self.response_400(message=_("The request body must be a JSON object."))
        if not isinstance(body, dict):
            return self.response_400(message=_("The request body must be a JSON object."))
        body = dict(body)
        device = body.pop("device", None)
        if device is not None and (not isinstance(device, str) or len(device) > MAX_DEVICE_LENGTH):
            return self.response_400(message={"device": [_("Text of 256 characters at most.")]})
        body.setdefault("provider", self.appbuilder.sm.auth_type_provider_name)
        try:
            credentials = login_post.load(body)
        except ValidationError as error:
            return self.response_400(message=error.messages)
        if credentials["provider"] != self.appbuilder.sm.auth_type_provider_name:
            return self.response_400(message=_("This authentication provider is not available."))
        sm = self.appbuilder.sm
        user = sm.auth_user_db(credentials["username"], credentials["password"])
        if not user:  # unknown, wrong password or inactive: one answer
            return self.response_401()
        pair = tokens.start_session(sm.session, user, device=device)
        sm.session.commit()
        return self.response(200, access_token=pair.access_token, refresh_token=pair.refresh_token)

    @expose("/refresh", methods=["POST"])
    @limiter.limit(limits.refresh_limit, key_func=limits.ip_key)
    @jwt_required(refresh=True)
    @safe
    def refresh(self) -> Response:
        """Spend a refresh token for a new access token and a new refresh token.
        ---
        post:
          description: >-
            Send the refresh token as a Bearer token. It is spent: keep the new
            refresh_token for the next refresh. Presenting a spent refresh token
            again ends the whole session (every token of that login).
          responses:
            200:
              description: A new pair
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            401:
              $ref: '#/components/responses/401'
            429:
              $ref: '#/components/responses/429'
          security:
            - jwt_refresh: []
        """
        try:
            pair = tokens.rotate(self.appbuilder.sm.session, get_jwt())
        except tokens.TokenRefusedError:
            return self.response_401()
        return self.response(200, access_token=pair.access_token, refresh_token=pair.refresh_token)
