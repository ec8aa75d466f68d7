from tests.routes import OK, Route, roles

ROUTES = [Route("health.healthz", "GET", "/healthz", roles(OK, anon=OK))]
