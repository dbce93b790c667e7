"""Issue 3's reporting through the real stack and the gateway: a rep's must-do list at
the tenant's local morning (API, SSE `event: mustdo`, and the team's WeCom group robot
— a local receiver here — with the robot's real payload), made once per rep per day;
the weekly compliance report (JSON, CSV, XLSX) reflecting a valid action and a missing
one; and a rep who sees only themself."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook

from tests.e2e.conftest import GATEWAY
from tests.e2e.test_actions_process import TEMPLATE, open_on_template
from tests.e2e.test_slice import wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the tenant policy's default time zone
MORNING = 8  # the policy's default must-do time, 08:00 local


class RobotReceiver(ThreadingHTTPServer):
    """A WeCom group robot: records each posted message, answers like the real one."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RobotHandler)
        self.messages: list[tuple[str, dict]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/cgi-bin/webhook/send?key=e2e-robot"


class _RobotHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.messages.append((self.path, json.loads(body)))
        answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


class MustDoListener(threading.Thread):
    """Collects `event: mustdo` payloads from the gateway's stream."""

    def __init__(self, token: str) -> None:
        super().__init__(daemon=True)
        self.token = token
        self.lists: list[dict] = []
        self.connected = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        try:
            with httpx.stream("GET", f"{GATEWAY}/v1/alerts/stream", headers=headers, timeout=None) as reply:
                self.connected.set()
                event = None
                for line in reply.iter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event == "mustdo":
                        self.lists.append(json.loads(line.split(":", 1)[1]))
        except httpx.RemoteProtocolError:
            pass  # the gateway stopped at the end of the session


def _advance(admin, seconds: float) -> datetime:
    reply = admin.post("/v1/admin/clock/advance", json={"seconds": seconds})
    assert reply.status_code == 200, reply.text
    return datetime.fromisoformat(reply.json()["now"].replace("Z", "+00:00"))


def _iso_week(moment: datetime) -> str:
    year, week, _ = moment.astimezone(SHANGHAI).isocalendar()
    return f"{year}-W{week:02d}"


def _rep_row(report: dict, rep_id: str) -> dict:
    return next(r for r in report["reps"] if r["rep_id"] == rep_id)


def test_must_do_at_the_local_morning_and_the_weekly_report_through_the_gateway(people, tenant):
    ann, bob, admin, person = people["ann"], people["bob"], people["admin"], people["person"]
    assert ann.put("/v1/reps/carl", json={"display_name": "Carl", "manager_id": "ann"}).status_code == 200
    carl = person("carl", "rep")
    robot = RobotReceiver()
    try:
        route = ann.put("/v1/reports/notification-routes/ann", json={"wecom_webhook_url": robot.url})
        assert route.status_code == 200 and route.json()["wecom_webhook_url"] == robot.url, route.text
        assert bob.put("/v1/reports/notification-routes/ann", json={"wecom_webhook_url": robot.url}).status_code == 403

        opened_at = _advance(admin, 1)
        opportunity = open_on_template(bob)
        open_on_template(carl)
        # Bob does the hospital profile (valid, on time) and never makes the first call.
        fields = bob.get(f"/v1/templates/{TEMPLATE}").json()["document"]["stages"][0]["actions"][1]["evidence"]["required_fields"]
        profile = bob.post(
            f"/v1/opportunities/{opportunity}/actions",
            json={"action_id": "profile-1", "template_action_id": "hospital_profile",
                  "submission": {"form": {name: f"value of {name}" for name in fields}}},
        )
        assert profile.status_code == 201 and profile.json()["action"]["valid"] is True, profile.text

        # The first local morning at least 25 h on: the first call (due in 24 h) is overdue.
        local = (opened_at + timedelta(hours=25)).astimezone(SHANGHAI)
        morning = local.replace(hour=MORNING, minute=1, second=0, microsecond=0)
        if morning < local:
            morning += timedelta(days=1)
        day = morning.date().isoformat()
        listener = MustDoListener(bob.token)
        listener.start()
        assert listener.connected.wait(10)
        time.sleep(0.5)  # the subscription is registered once the response has started
        _advance(admin, (morning - opened_at).total_seconds())

        pushed = wait_for(lambda: next((m for m in listener.lists if m["day"] == day), None), timeout=60)
        assert pushed["rep_id"] == "bob" and pushed["manager_id"] == "ann"
        assert all(m["rep_id"] == "bob" for m in listener.lists)  # carl's list is not bob's to see
        task = next(t for t in pushed["tasks"] if t["opportunity_id"] == opportunity)
        assert task["action_id"] == "first_contact_call" and task["explanation"] and task["factors"]
        assert task["due_at"] and "attachment_template" in task

        served = bob.get("/v1/reports/must-do").json()
        assert served["list_id"] == pushed["list_id"] and served["day"] == day
        assert bob.get("/v1/reports/must-do", params={"rep_id": "carl"}).status_code == 404
        assert ann.get("/v1/reports/must-do", params={"rep_id": "bob"}).json()["list_id"] == pushed["list_id"]

        def robot_got_the_day():
            return [body for _, body in robot.messages if f"· {day}" in body["markdown"]["content"]]

        (message,) = wait_for(robot_got_the_day, timeout=60)
        assert message["msgtype"] == "markdown"
        content = message["markdown"]["content"]
        assert content.startswith(f"**今日必做 Today's must-do · {day}**")
        assert "**Bob** (bob)" in content and "**Carl** (carl)" in content and "CT scanner" in content
        assert "<@bob>" in content and "<@carl>" in content
        assert all(path.endswith("key=e2e-robot") for path, _ in robot.messages)

        # Once per rep per day: an hour later, the same list and no second message.
        _advance(admin, 3600)
        time.sleep(6)  # longer than the worker's scheduling interval (5 s)
        assert bob.get("/v1/reports/must-do").json()["list_id"] == pushed["list_id"]
        assert len(robot_got_the_day()) == 1
        assert len([m for m in listener.lists if m["day"] == day]) == 1
    finally:
        robot.shutdown()
        robot.server_close()

    # The weekly report: the call counts as missing, the profile as done on time.
    call_week, profile_week = _iso_week(opened_at + timedelta(hours=24)), _iso_week(opened_at + timedelta(hours=48))

    def missing_call_reported():
        report = ann.get("/v1/reports/compliance", params={"week": call_week}).json()
        row = _rep_row(report, "bob")
        return report if any(m["opportunity_id"] == opportunity and m["action_id"] == "first_contact_call"
                             for m in row["missing_actions"]) else None

    report = wait_for(missing_call_reported)
    assert report["missing_actions_included"] is True
    assert {r["rep_id"] for r in report["reps"]} == {"bob", "carl"}
    assert [t["team_id"] for t in report["teams"]] == ["ann"]
    bob_row = _rep_row(report, "bob")
    assert bob_row["missing"] >= 1 and bob_row["status"] in ("red", "yellow")
    profile_row = _rep_row(ann.get("/v1/reports/compliance", params={"week": profile_week}).json(), "bob")
    assert profile_row["done_on_time"] >= 1
    assert not any(m["action_id"] == "hospital_profile" for m in profile_row.get("missing_actions", []))

    csv_reply = ann.get("/v1/reports/compliance", params={"week": call_week, "format": "csv"})
    assert csv_reply.status_code == 200 and csv_reply.headers["content-type"].startswith("text/csv")
    assert "attachment;" in csv_reply.headers["content-disposition"]
    lines = csv_reply.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("scope,team_id,rep_id")
    assert any(line.startswith("missing_action,ann,bob,") and opportunity in line and "first_contact_call" in line
               for line in lines)

    xlsx_reply = ann.get("/v1/reports/compliance", params={"week": call_week, "format": "xlsx"})
    assert xlsx_reply.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx_reply.content), read_only=True)
    assert workbook.sheetnames == ["Summary", "Reps", "Missing actions"]
    missing_rows = [row for row in workbook["Missing actions"].iter_rows(min_row=2, values_only=True)]
    assert any(opportunity in row and "first_contact_call" in row for row in missing_rows)

    # A rep sees only themself.
    own = bob.get("/v1/reports/compliance", params={"week": call_week}).json()
    assert [r["rep_id"] for r in own["reps"]] == ["bob"]
    assert bob.get("/v1/reports/compliance", params={"week": call_week, "team_id": "dora"}).status_code == 403
