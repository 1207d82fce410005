"""`candor shell` runs a nomination cycle end to end: the forms become prompts, buttons are pressed
with /click, and the close runs as the shell's timed work or by an admin's /nominate close."""

from __future__ import annotations

from tests.test_cli import run

FIRST = "Told me kindly in the retro that my estimates ignored review time"
SECOND = "Reviewed my design doc within a day <!channel> *bold*"


def test_a_nomination_cycle_in_the_shell(tmp_path):
    script = [
        "/nominate open",  # alice is no admin
        "/as admin",
        "/nominate open",
        *[""] * 7,  # every default: Best feedback giver in #general, closing in a week, no vote
        "/as alice",
        "/click nominate_someone 1",
        "bob",
        FIRST,
        SECOND,
        "",
        "role model",
        "/nominate @carol",
        "",  # carol, as typed
        FIRST,
        "too short",  # refused: the form asks again for this field only
        "",
        "developing",
        "An example that is long enough this time",
        "/nominate status",
        "/as admin",
        "/nominate status",
        "/nominate close",
        "/as bob",
        "/nominate mine",
        "/click nominate_export markdown",
        "/nominate history",
        "/quit",
    ]
    result = run(["shell"], tmp_path, stdin="\n".join(script) + "\n")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "(only you) Only Candor admins can open a nomination cycle." in out
    assert "== Open nominations ==" in out
    assert "[#general] 🏆 Nominations are open: Best feedback giver" in out
    assert "[Nominate someone → /click nominate_someone 1]" in out
    assert "(only you) You nominated @bob for Best feedback giver." in out
    assert "Example 2: Example 2 is 9 characters; give at least 20" in out
    assert "(only you) You nominated @carol for Best feedback giver." in out
    assert "You have given 2 of at most 3 nominations: @bob and @carol." in out
    assert "Running tally (admins only): @bob 1, @carol 1." in out
    assert out.count("Running tally") == 1  # alice's status had none
    assert "(only you) Best feedback giver is closed; the result is posted in the channel." in out
    assert "[#general] 🏆 Best feedback giver: joint winners @bob and @carol" in out
    assert f"> {SECOND}" in out  # a terminal shows text as typed
    assert "[DM to bob] You were nominated for Best feedback giver in #general. You won, jointly." in out
    assert "[DM to carol] You were nominated for Best feedback giver in #general." in out
    assert "(only you) Your evidence: 1 nomination and 0 kudos" in out
    assert (
        "[DM to bob] Your evidence as Markdown: 1 nomination and 0 kudos.\n"
        "    Copy the text below into a file named evidence.md to keep it.\n"
        "    > # Evidence: bob\n"
    ) in out
    assert "in #general: @bob and @carol (joint)" in out
