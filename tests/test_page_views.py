"""Page views and the server's imports that must run alone (ui/server.py _PageViews): two threads
importing the same modules at once can each see the other's half-initialised, so the warm-up's
import of pandas waits for a moment with no page view running and holds new ones back meanwhile."""
import threading
import time

from ui.server import _PageViews


def test_an_import_alone_waits_for_the_running_page_view_and_holds_the_next_one_back():
    views, order = _PageViews(), []
    first_running, let_first_finish = threading.Event(), threading.Event()

    def first_view():
        with views.page():
            order.append("first view starts")
            first_running.set()
            let_first_finish.wait(10)
            order.append("first view ends")

    def importer():
        with views.alone():
            order.append("import starts")
            time.sleep(0.3)  # a next page view arrives meanwhile
            order.append("import ends")

    def next_view():
        with views.page():
            order.append("next view starts")

    threads = [threading.Thread(target=first_view)]
    threads[0].start()
    assert first_running.wait(10)
    threads.append(threading.Thread(target=importer))
    threads[1].start()
    time.sleep(0.2)
    assert "import starts" not in order  # the first view still runs
    let_first_finish.set()
    deadline = time.monotonic() + 10
    while "import starts" not in order:  # bounded: a broken alone() fails here, not hangs the suite
        assert time.monotonic() < deadline, f"the import never started: {order}"
        time.sleep(0.01)
    threads.append(threading.Thread(target=next_view))
    threads[2].start()
    for t in threads:
        t.join(10)
    assert order == ["first view starts", "first view ends", "import starts", "import ends", "next view starts"]


def test_page_views_run_side_by_side_and_an_error_in_one_frees_its_place():
    views, both_inside = _PageViews(), threading.Barrier(2, timeout=10)

    def view():
        with views.page():
            both_inside.wait()  # raises BrokenBarrierError if the two could not be inside at once

    threads = [threading.Thread(target=view) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    try:
        with views.page():
            raise RuntimeError("the page failed")
    except RuntimeError:
        pass
    done = threading.Event()
    threading.Thread(target=lambda: (views.alone().__enter__(), done.set())).start()
    assert done.wait(5)  # no page view is counted as running any more
