"""pgtest.py: what the Python integration tests share: psycopg2 (rerun with
Debian's python3 when the first python3 on PATH cannot import it), the
migrated test database (BOXOFFICE_TEST_DATABASE_URL, set by scripts/test),
connections to it, and scratch databases copied from it for tests that
must own every row of a table."""

import os
import sys
import unittest

try:
    import psycopg2
    import psycopg2.errors  # noqa: F401 (for the tests that catch its classes)
except ImportError:
    # scripts/test installs Debian's python3-psycopg2; a python3 found
    # first on PATH (pyenv, a venv) may not see it: rerun with Debian's.
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

DATABASE_URL = os.environ.get("BOXOFFICE_TEST_DATABASE_URL", "")


def connect(url=None):
    """An autocommit connection to the test database (or url)."""
    conn = psycopg2.connect(url or DATABASE_URL)
    conn.autocommit = True
    return conn


def _on_database(name):
    return DATABASE_URL.replace("dbname=boxoffice", "dbname=" + name)


def scratch_database(name):
    """Creates database name as a copy of the migrated test database and
    returns an autocommit connection to it."""
    admin = connect(_on_database("postgres"))
    try:
        admin.cursor().execute("CREATE DATABASE %s TEMPLATE boxoffice" % name)
    finally:
        admin.close()
    return connect(_on_database(name))


def drop_scratch_database(name, conn):
    """Closes conn and drops database name (made by scratch_database)."""
    conn.close()
    admin = connect(_on_database("postgres"))
    try:
        admin.cursor().execute("DROP DATABASE IF EXISTS %s" % name)
    finally:
        admin.close()


class ScratchDatabaseTest(unittest.TestCase):
    """A test class with a database of its own (SCRATCH_PREFIX_<pid>, a copy
    of the migrated test database) in cls.conn and cls.cur. prepare() fills
    it; the database is dropped after the class, and at once when prepare()
    fails (unittest skips tearDownClass then). Skipped without the test
    database."""

    SCRATCH_PREFIX = "scratch"

    @classmethod
    def setUpClass(cls):
        if not DATABASE_URL:
            raise unittest.SkipTest("BOXOFFICE_TEST_DATABASE_URL is not set")
        cls.dbname = "%s_%d" % (cls.SCRATCH_PREFIX, os.getpid())
        cls.conn = scratch_database(cls.dbname)
        cls.cur = cls.conn.cursor()
        try:
            cls.prepare()
        except BaseException:
            drop_scratch_database(cls.dbname, cls.conn)
            raise

    @classmethod
    def prepare(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        drop_scratch_database(cls.dbname, cls.conn)
