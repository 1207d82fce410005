"""`candor shell` runs failure reviews with prompts: the form's fields one by one, with their
guidance, several action items (rows, more rows, and lines), the gentle blame check as a next step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.test_cli import run


def ahead(days: int) -> str:
    # The shell runs on the system clock, so its due dates are counted from today's date.
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


SECTIONS = [
    "Checkout errors after the release",
    "The release went out at 14:00 and checkout failed for 40 minutes until it was rolled back.",
    "About 300 customers could not pay for 40 minutes.",
    "The deploy pipeline has no canary step and the alert fires too late.",
    "A canary would have caught the error within minutes.",
    "Roll out to 5% first and watch the error rate.",
]


def test_a_review_with_several_action_items_through_prompts(tmp_path):
    script = [
        "/review",
        *SECTIONS,
        "add a canary step",  # action 1
        "@bob",
        ahead(30),
        "",  # action 2: skipped
        "",
        "",
        "",  # action 3: skipped
        "",
        "",
        f"@carol {ahead(40)} write the rollback runbook\\n@dana {ahead(41)} make the alert fire sooner",
        "yes",  # more rows: the form comes back with six, as it was left
        "",  # (not anonymous)
        *[""] * 6,  # the sections kept
        "",  # action 1 kept, its owner and date too
        "",
        "",
        "tidy the dashboards",  # action 2, now filled
        "erin",
        ahead(50),
        *[""] * 12,  # actions 3 to 6: empty
        "",  # the lines kept
        "",  # no more rows
        "",  # not anonymous
        "/review actions",
        "/as carol",
        "/review list",
    ]
    result = run(["shell"], tmp_path, stdin="\n".join(script) + "\n")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "== Failure review ==" in out
    assert "(Process, tools, clarity of expectations, not people." in out  # guidance before its prompt
    assert "(How can we do this better next time?)" in out
    assert "Added 3 action rows. Nothing is published yet." in out
    assert "(only you) Published. Review #" in out
    post = out.split("[#reviews] ")[1]
    assert post.startswith("📝 Failure review #")
    assert "Action items · 0 of 4 done" in post
    for line in (
        "☐ add a canary step — @bob, due ",
        "☐ tidy the dashboards — @erin",
        "☐ write the rollback runbook — @carol",
        "☐ make the alert fire sooner — @dana",
    ):
        assert line in post
    assert "[DM to bob] 📝 You own an action" in out and "[DM to erin] 📝 You own an action" in out
    assert "→ /click review_action_done " in out  # the button, as the shell presses it
    assert "Recent failure reviews" in out and "actions 0/4 done" in out


def test_a_blaming_word_brings_the_gentle_check_then_it_publishes_and_anonymous_goes_out_at_once(tmp_path):
    blaming = list(SECTIONS)
    blaming[3] = "Bob was careless and the pipeline has no canary step."
    script = [
        "/review",
        *blaming,
        *[""] * 9,  # no action rows
        "",  # no lines
        "",  # no more rows
        "yes",  # anonymous
        *[""] * 18,  # the form again, with the gentle check: Enter keeps everything
    ]
    result = run(["shell"], tmp_path, stdin="\n".join(script) + "\n")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "💬 A gentle check before this is published" in out and "“careless” (Contributing factors)" in out
    assert "Your case code: " in out
    assert "[#reviews] 📝 Failure review #" in out  # the shell publishes anonymous reviews at once
    post = out.split("[#reviews] ")[1]
    assert "by a team member (anonymous) · " in post and "alice" not in post and "#general" not in post
