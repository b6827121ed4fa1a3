"""test_queue_limits.py: nginx's per-client limits in front of the waiting
room. The test stack runs with open limits, so this starts a second nginx
from the same template with the run command's strict limits
(scripts/stack.sh, LIMITS=strict) in front of the same FastCGI socket, and
checks that bursts past the limits are answered 429 with Retry-After."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import boxoffice
from boxoffice import Client

ROOT = os.environ.get("BOXOFFICE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
STACK_STATE = os.environ.get("BOXOFFICE_STATE_DIR", "")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class StrictLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.state = tempfile.mkdtemp(prefix="boxoffice-limits.")
        os.chmod(cls.state, 0o755)
        os.makedirs(os.path.join(cls.state, "run"))
        os.makedirs(os.path.join(cls.state, "log"))
        os.symlink(os.path.join(STACK_STATE, "run", "fcgi.sock"),
                   os.path.join(cls.state, "run", "fcgi.sock"))
        cls.port = free_port()
        script = ('. "$ROOT/scripts/common.sh"; . "$ROOT/scripts/stack.sh"; '
                  'stack_write_nginx && nginx -p "$STATE/nginx" -c "$STATE/nginx.conf"')
        env = dict(os.environ, ROOT=ROOT, STATE=cls.state, PORT=str(cls.port),
                   LIMITS="strict", NGINX_WORKERS="1", ACCESS_LOG="off")
        subprocess.run(["sh", "-c", script], env=env, check=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        cls.base = "http://127.0.0.1:%d" % cls.port

    @classmethod
    def tearDownClass(cls):
        pidfile = os.path.join(cls.state, "run", "nginx.pid")
        if os.path.exists(pidfile):
            with open(pidfile) as f:
                pid = int(f.read().strip())
            subprocess.run(["nginx", "-p", os.path.join(cls.state, "nginx"), "-c",
                            os.path.join(cls.state, "nginx.conf"), "-s", "quit"], check=False)
            deadline = time.time() + 5
            while time.time() < deadline:
                try:
                    os.kill(pid, 0)
                    time.sleep(0.1)
                except OSError:
                    break
        shutil.rmtree(cls.state, ignore_errors=True)

    def burst(self, method, path, n, token=None, body=None):
        c = Client(token=token, base=self.base)
        answers = [c.request(method, path, body) for _ in range(n)]
        c.close()
        return answers

    def check_limited(self, answers, allowed_at_most):
        ok = [r for r in answers if r.status != 429]
        limited = [r for r in answers if r.status == 429]
        self.assertTrue(limited, "no 429 in %d requests" % len(answers))
        self.assertLessEqual(len(ok), allowed_at_most)
        for r in limited:
            self.assertEqual(r.error_code, "rate_limited", r)
            self.assertTrue(r.headers.get("retry-after"), r.headers)

    def test_bursts_past_the_limits_get_429(self):
        admin = boxoffice.admin()
        e = boxoffice.create_event(admin, waiting_room={"enabled": True})
        client, _ = boxoffice.signup()
        eid = e["id"]
        # status: 5/s with a burst of 20
        self.check_limited(self.burst("GET", "/api/queue/%d/status?token=x" % eid, 60), 30)
        # join: 2/s with a burst of 5
        self.check_limited(self.burst("POST", "/api/queue/%d/join" % eid, 30, client.token), 10)
        # holds: 5/s with a burst of 20
        self.check_limited(self.burst("POST", "/api/events/%d/holds" % eid, 60, client.token,
                                      {"quantity": 1}), 30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
