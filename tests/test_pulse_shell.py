"""The pulse and the team report in `candor shell`: a real process fed by a pipe, as a newcomer
tries it (the people seen in the shell are the channel's members)."""

from __future__ import annotations

from tests.test_cli import run

ANSWERS = "\n".join(["4"] * 7 + [""])  # seven answers, no comment


def test_a_round_in_the_shell_from_start_to_results(tmp_path):
    people = ["bob", "carol", "dave", "erin"]
    lines = [f"/as {p}" for p in people] + ["/as admin", "/pulse start", "/pulse status"]
    for person in [*people, "alice"]:
        lines += [f"/as {person}", "/click pulse_answer 1", ANSWERS]
    lines += [
        "/as bob",
        "/click pulse_answer 1",
        "/as admin",
        "/pulse close",
        "/candor report 30d",
        "/candor me",
    ]
    done = run(["shell"], tmp_path, stdin="\n".join(lines) + "\n")
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Pulse scheduled for #general" in out
    assert "[DM to bob]" in out and "[Answer → /click pulse_answer 1]" in out
    assert "1 Strongly disagree · 2 Disagree · 3 Somewhat disagree" in out  # the scale, above the questions
    assert out.count("Thank you. Your answer is recorded.") == 5
    assert "You already answered this round" in out
    assert "Team score: 4.00 out of 7" in out and "Response rate: 83% (5 of 6 members)" in out
    assert "Team report, last 30 days: #general" in out and "Pulse team score (1-7): 4.00 of 7" in out
    assert "Your Candor" in out and "Kudos you received" in out
