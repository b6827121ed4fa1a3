"""fake_es_process.py: starts tests/es/fake_es.py as a process of its own on
a free port, for the tests that point boxoffice at it (the indexer's
integration test, the ElasticSearch backend's e2e test)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

FAKE_ES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_es.py")


class FakeEsProcess:
    """The fake, listening on 127.0.0.1 at self.url; stop() ends it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="boxoffice-fake-es.")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            [sys.executable, FAKE_ES, "--port", "0", "--port-file", port_file],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = ""
        for _ in range(100):
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
                if port:
                    break
            time.sleep(0.1)
        if not port:
            self.stop()
            raise RuntimeError("the fake ElasticSearch did not start")
        self.url = "http://127.0.0.1:%s" % port

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
