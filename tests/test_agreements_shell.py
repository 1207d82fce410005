"""`candor shell` runs the three accountability practices: an agreement asked and accepted, a case
opened with its DM to the person, a coaching note shared, each as a newcomer would type them."""

from __future__ import annotations

from datetime import date, timedelta

from tests.test_cli import run


def test_the_shell_runs_agreements_escalation_and_coaching(tmp_path):
    # The shell runs on the machine's clock; 30 days ahead is a valid due date whenever this runs.
    due = (date.today() + timedelta(days=30)).isoformat()
    script = "\n".join(
        [
            "/agree @bob Draft the plan",
            "",  # Enter keeps bob, the person the form was opened for
            "",  # and the request typed after the name
            "Finance reviewed it",
            due,
            "",  # 17:00
            "",  # no process goal
            "/as bob",
            "/click agree_accept 1:1",
            "/agree list",
            "/escalation rubric",
            "/as alice",
            "/escalation open @bob",
            "Missed the stand-ups",
            "",  # today
            "Plans slipped",
            "/coach @bob",
            "We talked about mornings",
            "",
            "",
            "yes",  # share it
            "/as bob",
            "/coach shared",
            "/escalation list",
            "/quit",
        ]
    )
    result = run(["shell"], tmp_path, stdin=script)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "(only you) Sent to @bob. It becomes an agreement when they accept it." in out
    assert "[DM to bob] 📝 @alice asks you to agree to this:" in out
    assert "[Accept → /click agree_accept 1:1]" in out
    assert "(only you) Agreed: #1." in out and "[DM to alice] 🤝 Agreed with @bob" in out
    assert "#1 Draft the plan · with @alice · due" in out and "· agreed" in out
    assert "1. Observation · at least 3 days" in out
    assert "[DM to bob] 📋 @alice opened an escalation case about you, #1." in out
    assert "(only you) Kept. Shared with @bob." in out
    assert "[DM to bob] 📝 @alice shared a coaching note with you." in out
    assert "> We talked about mornings" in out.split("Coaching notes shared with you")[1]
    assert "#1 about @bob · manager @alice · Observation" in out
