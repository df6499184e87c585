# minna_jupyter_auth: how a Jupyter server started by minna (apps/jupyter.app)
# knows that a request comes from minna-relay, without a token Jupyter could
# echo.
#
# Jupyter puts its own token into every page it renders (data-jupyter-api-token),
# into the URLs it prints and redirects to (tree?token=...) and into a login
# cookie.  So the server runs with its token empty, and this login handler is
# the only way in: the relay adds the session's secret (the 0600 file
# $MINNA_TOKEN_FILE, written by the controller) to every request it forwards as
# the X-Minna-App-Token header, which it strips from what browsers send.
# Jupyter never renders, redirects with or logs that header (its access log
# names only Host, Accept, Referer and User-Agent).
#
# A relayed request counts as a cookie login, not a token login: Jupyter's
# XSRF check (the _xsrf cookie and the X-XSRFToken header its front-end sends)
# and its Origin check stay on, and it never answers with a permissive
# Access-Control-Allow-Origin.  Direct connections to the app's port (another
# local user) carry no secret and get 403.
#
# Used as --NotebookApp.login_handler_class=minna_jupyter_auth.NotebookLogin
# (Jupyter Notebook 6) or --ServerApp.login_handler_class=
# minna_jupyter_auth.ServerLogin (jupyter-server 1, JupyterLab), with the app
# directory on PYTHONPATH and --*.token= (empty).

import hmac
import os

from tornado import web

HEADER = "X-Minna-App-Token"
# the user name Jupyter sees; the relay already checked that the portal user
# owns this session
USER = "minna"


def _read_secret():
    path = os.environ.get("MINNA_TOKEN_FILE", "")
    if not path:
        raise SystemExit("minna_jupyter_auth: MINNA_TOKEN_FILE is not set")
    try:
        with open(path, encoding="ascii") as f:
            secret = f.read().strip()
    except OSError as e:
        raise SystemExit(f"minna_jupyter_auth: {path}: {e.strerror}") from None
    if len(secret) < 32:
        raise SystemExit(f"minna_jupyter_auth: {path}: the secret is shorter than 32 characters")
    return secret.encode("ascii")


_SECRET = _read_secret()
# an older app script exported it; Jupyter would take it as its token
os.environ.pop("JUPYTER_TOKEN", None)


def _relayed(handler):
    given = handler.request.headers.get(HEADER, "")
    return bool(given) and hmac.compare_digest(given.encode("ascii", "replace"), _SECRET)


def _make(base):
    class MinnaLogin(base):
        """Only requests that minna-relay forwarded are a user."""

        def get(self):
            raise web.HTTPError(403, "Open this session from the minna portal.")

        def post(self):
            raise web.HTTPError(403, "Open this session from the minna portal.")

        @classmethod
        def get_user(cls, handler):
            # Notebook 6 sets its _xsrf cookie for "/", which the relay
            # drops (an app may set cookies for its own /s/<id>/ only);
            # jupyter-server already scopes it to base_url like this
            handler.settings.setdefault("xsrf_cookie_kwargs",
                                        {"path": handler.settings.get("base_url", "/")})
            cached = getattr(handler, "_user_id", None)
            if cached:
                return cached
            user = USER if _relayed(handler) else None
            handler._user_id = user
            return user

        @classmethod
        def get_user_token(cls, handler):
            return None

        @classmethod
        def is_token_authenticated(cls, handler):
            # keeps XSRF, Origin and CORS checks as for a cookie login
            return False

        @classmethod
        def should_check_origin(cls, handler):
            return True

        @classmethod
        def get_login_available(cls, settings):
            # never "no authentication configured": that would make every
            # request the anonymous user
            return True

        @classmethod
        def validate_security(cls, app, ssl_options=None):
            if app.token or app.password:
                app.log.warning("minna: Jupyter's own token or password is set; the page"
                                " may echo it (the app should run with an empty token)")

    return MinnaLogin


try:
    from notebook.auth.login import LoginHandler as _NotebookLoginHandler
    NotebookLogin = _make(_NotebookLoginHandler)
except ImportError:  # jupyter-server only
    pass

try:
    from jupyter_server.auth.login import LoginHandler as _ServerLoginHandler
    ServerLogin = _make(_ServerLoginHandler)
except ImportError:  # Notebook only
    pass
