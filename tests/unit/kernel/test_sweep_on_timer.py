"""A failing deadline sweep must not stop the worker nor the other sweeps."""

import logging

from kernel.faust_app import sweep_on_timer


class _TimerApp:
    def __init__(self):
        self.timers = {}

    def timer(self, interval, name):
        def register(fn):
            self.timers[name] = (interval, fn)
            return fn

        return register


async def test_each_sweep_runs_and_a_failing_one_is_logged_and_skipped(caplog):
    ran = []

    async def broken():
        ran.append("broken")
        raise ConnectionError("redis away")

    async def healthy():
        ran.append("healthy")
        return 3

    app = _TimerApp()
    sweep_on_timer(app, "sweep_test", [broken, healthy], 0.2)
    interval, tick = app.timers["sweep_test"]
    with caplog.at_level(logging.INFO, logger="kernel.faust_app"):
        await tick()
    assert interval == 0.2
    assert ran == ["broken", "healthy"]
    assert any("sweep_test failed" in r.message and r.exc_info for r in caplog.records)
    assert any("sweep_test fired 3 deadlines" in r.message for r in caplog.records)


async def test_a_quiet_tick_logs_nothing(caplog):
    async def idle():
        return 0

    app = _TimerApp()
    sweep_on_timer(app, "sweep_idle", [idle], 1.0)
    with caplog.at_level(logging.INFO, logger="kernel.faust_app"):
        await app.timers["sweep_idle"][1]()
    assert not caplog.records
