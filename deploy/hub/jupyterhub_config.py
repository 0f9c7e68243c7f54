"""JupyterHub for the course: PAM accounts, LocalProcessSpawner, formgrader as a service of a shared grader account.

Started by `python -m course_tools.hub start` (`make hub`), which points $COURSE_HUB_SETTINGS at the
hub.json that `course_tools.hub setup` and `roster` write (folders, ports, accounts). The layout follows
nbgrader's demos/demo_one_class_multiple_graders; docs/hub.md explains each part and how to swap PAM for
LTI 1.3 (jupyterhub-ltiauthenticator) or OAuth.
"""

import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

settings = json.loads(Path(os.environ.get("COURSE_HUB_SETTINGS", "/srv/nextword-hub/hub.json")).read_text())
state = Path(settings["state"])
course = settings["course_id"]
environment_bin = Path(settings["environment"]) / "bin"
formgraders = f"formgrade-{course}"   # nbgrader's convention: formgrader access groups start with formgrade-
students = f"nbgrader-{course}"       # and course members' groups with nbgrader-

# ------------------------------------------------------------------ where it listens, what it keeps
c.JupyterHub.ip = settings["ip"]
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
# Stopping the hub stops every user's server and its services: nothing it started outlives it.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# ------------------------------------------------------------------ who may log in (system accounts)
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no pam_systemd/pam_loginuid session: the spawner switches uid itself
c.Authenticator.allowed_users = {settings["instructor"], *settings["graders"], *settings["students"]}
c.Authenticator.admin_users = {settings["instructor"]}

c.JupyterHub.load_groups = {
    formgraders: {"users": [settings["instructor"], *settings["graders"]]},
    students: {"users": list(settings["students"])},
}
c.JupyterHub.load_roles = [
    {   # graders reach formgrader (the service named after the course) and nothing else of the grader account
        "name": formgraders,
        "groups": [formgraders],
        "scopes": [f"access:services!service={course}", "list:services", f"read:services!service={course}"],
    },
    {   # students may see that the course exists (nbgrader's course list), never open its formgrader
        "name": students,
        "groups": [students],
        "scopes": ["list:services", f"read:services!service={course}"],
    },
    {
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    },
]

# ------------------------------------------------------------------ each user's JupyterLab
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(environment_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]  # not the hub's PATH or PYTHONPATH: root's venv is not theirs
c.Spawner.environment = {
    "PATH": f"{environment_bin}:/usr/local/bin:/usr/bin:/bin",
    "NBGRADER_EXCHANGE": settings["exchange"],
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    # the hub's mark: a kernel whose server the spawner had to kill (a busy host, a slow shutdown) outlives that
    # server, and stopping the hub stops every process that carries the mark
    "COURSE_HUB_SETTINGS": os.environ["COURSE_HUB_SETTINGS"],
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# LocalProcessSpawner does NOT enforce these: it only passes them on as $MEM_LIMIT and $CPU_LIMIT
# (jupyter-resource-usage displays them). Enforcing needs a spawner with cgroups: systemdspawner
# (SystemdSpawner.mem_limit / cpu_limit), DockerSpawner or KubeSpawner; see docs/hub.md.
c.Spawner.mem_limit = settings["mem_limit"]
c.Spawner.cpu_limit = settings["cpu_limit"]

# ------------------------------------------------------------------ services
grader_home = f"/home/{settings['grader_account']}"
c.JupyterHub.services = [
    {   # formgrader: a JupyterLab of the shared grader account, in the course folder
        "name": course,
        "url": f"http://127.0.0.1:{settings['formgrader_port']}",
        "command": [str(environment_bin / "jupyterhub-singleuser"), f"--ServerApp.root_dir={settings['course']}"],
        "user": settings["grader_account"],
        "cwd": settings["course"],
        "oauth_no_confirm": True,
        "environment": {
            "HOME": grader_home,
            "TMPDIR": f"{grader_home}/.cache/tmp",   # made by course_tools.hub setup; /tmp files may be another's
            "PATH": f"{environment_bin}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": settings["environment"] + "-tools",   # course_tools, for nbgrader_config.py
            "NBGRADER_EXCHANGE": settings["exchange"],
            "COURSE_HUB_SETTINGS": os.environ["COURSE_HUB_SETTINGS"],   # the hub's mark: stopping it stops this
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        },
    },
    {   # stop servers idle for cull_idle_seconds (their kernels too: jupyter-server reports activity)
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings['cull_idle_seconds']}"],
        "environment": {"COURSE_HUB_SETTINGS": os.environ["COURSE_HUB_SETTINGS"]},   # the hub's mark
    },
]
