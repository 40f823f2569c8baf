"""The route table (``cloudpacs.web.access``) names exactly the app's route handlers, and each
router is imported only when an app mounts it."""

from __future__ import annotations

import subprocess
import sys

from starlette.routing import Route

from cloudpacs.web.access import ROUTE_ACTIONS, endpoint_name
from cloudpacs.web.routers import ROUTERS, all_routers


def test_every_entry_names_a_mounted_handler_and_every_handler_has_one() -> None:
    handlers = {
        endpoint_name(route.endpoint)
        for _, router, _ in all_routers()
        for route in router.routes
        if isinstance(route, Route)
    }
    assert None not in handlers
    assert handlers == set(ROUTE_ACTIONS)


def test_names_are_module_and_function() -> None:
    from cloudpacs.web.routes import qido

    assert endpoint_name(qido.search_studies) == "qido.search_studies"
    assert endpoint_name(len) is None
    assert endpoint_name(None) is None


def test_an_app_of_one_router_imports_no_other_route_module() -> None:
    script = (
        "import sys\n"
        "from cloudpacs.runtime import build_services\n"
        "from cloudpacs.settings import load_settings\n"
        "from cloudpacs.web.app import create_app\n"
        "import tempfile\n"
        "settings = load_settings(data_dir=tempfile.mkdtemp(), fsync=False)\n"
        "create_app(build_services(settings), routes=('qido',))\n"
        "print(sorted(m for m in sys.modules if m.startswith('cloudpacs.web.routes.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['cloudpacs.web.routes.qido']"
    assert {spec.module for spec in ROUTERS.values()} >= {"qido", "wado", "stow"}
