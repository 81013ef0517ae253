"""FAB's login form, without a false "Invalid redirect" warning at every login.

FAB hands the `next` argument of /login/ to get_safe_redirect even when there is none
(an empty string), and get_safe_redirect logs "Invalid redirect detected, falling back
to index" for it: every ordinary login (the form posted without ?next=) warned in the
logs, which buries the real warnings. Here no `next` means the home page, quietly; a
`next` that is there still goes through FAB's check, and an unsafe one still warns.
"""

from __future__ import annotations

from flask import flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.security import views as fab_views
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.utils.base import get_safe_redirect
from flask_login import login_user
from werkzeug.wrappers import Response


class AuthDBView(fab_views.AuthDBView):
    """FAB's name, so the endpoint (AuthDBView.login) and the permission names stay FAB's."""

    def _get_safe_next_url(self) -> str:
        """The page asked for in ?next= if it is safe, the home page when none was asked for."""
        wanted = request.args.get("next", "")
        return get_safe_redirect(wanted) if wanted else self.appbuilder.get_url_for_index

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self) -> Response | str:
        # FAB's AuthDBView.login, with _get_safe_next_url for its next_url.
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = self._get_safe_next_url()
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                flash(as_unicode(self.invalid_login_message), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            login_user(user, remember=False)
            return redirect(next_url)
        return self.render_template(
            self.login_template, title=self.title, form=form, appbuilder=self.appbuilder
        )
