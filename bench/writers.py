"""Several writer processes on one SQLite file: SQLITE_BUSY errors and lost writes.

Each of 8 processes runs read-then-write transactions (read a counter, write it back plus one,
add a row), the shape of an answer save that rescores. Side by side in one run: the app's
``storage.write_transaction`` (BEGIN IMMEDIATE behind a writer queue) and a plain deferred
BEGIN (what sqlite-utils' ``db.atomic()`` issues), both with the app's busy timeout and WAL.
Target: 0 SQLITE_BUSY errors and 0 lost writes with 8 writers.

    .venv/bin/python -m bench.writers [TRANSACTIONS_PER_WRITER]
"""

import multiprocessing
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from assessment import storage
from bench import arguments

WRITERS = 8


@contextmanager
def plain_transaction(db):
    db.conn.execute("BEGIN")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


TRANSACTIONS = {"BEGIN IMMEDIATE (the app)": storage.write_transaction, "plain BEGIN": plain_transaction}


def writer(path: str, kind: str, count: int, busy) -> None:
    db = storage.connect(path)
    transaction = TRANSACTIONS[kind]
    for _ in range(count):
        try:
            with transaction(db):
                (value,) = db.execute("SELECT value FROM counter").fetchone()
                db.execute("UPDATE counter SET value = ?", [value + 1])
                db.execute("INSERT INTO writes DEFAULT VALUES")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            with busy.get_lock():
                busy.value += 1
    db.close()


def run(kind: str, count: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "w.db")
        db = storage.init(path)
        db.execute("CREATE TABLE counter (value INTEGER)")
        db.execute("CREATE TABLE writes (id INTEGER PRIMARY KEY)")
        db.execute("INSERT INTO counter VALUES (0)")
        db.conn.commit()
        context = multiprocessing.get_context("spawn")
        busy = context.Value("i", 0)
        processes = [context.Process(target=writer, args=(path, kind, count, busy)) for _ in range(WRITERS)]
        start = time.perf_counter()
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - start
        (counter,) = db.execute("SELECT value FROM counter").fetchone()
        (rows,) = db.execute("SELECT count(*) FROM writes").fetchone()
        db.close()
    attempted = WRITERS * count
    return {"busy": busy.value, "lost": rows - counter, "committed": rows, "attempted": attempted,
            "per_second": rows / elapsed}


def main() -> None:
    (count,) = arguments(__doc__, 200)
    print(f"{WRITERS} writer processes x {count} read-then-write transactions (WAL, synchronous=FULL)")
    for kind in TRANSACTIONS:
        r = run(kind, count)
        # "lost": rows committed whose counter increment was overwritten by a concurrent writer.
        print(f"  {kind:27} SQLITE_BUSY {r['busy']:5}   committed {r['committed']:5} of {r['attempted']}   "
              f"lost increments {r['lost']:3}   {r['per_second']:7.0f} transactions/s")


if __name__ == "__main__":
    main()
