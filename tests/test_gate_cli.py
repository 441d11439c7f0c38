"""Rounds that decide, through the real CLI on tiny local models: `rlhf round add` evaluates each upload
against the champion with the reference judge and exits with the gate's decision (0 promoted, 3 held,
4 rejected); a rejected round's policy is never built on; a round judged only by a judge that failed its
canaries is held; `rlhf gate --dry-run --config` tries another rule and records nothing; manual promote /
reject move the champion and are recorded with who and why.

Each policy's eval answers are stored before its round (the sampler reuses stored answers), so which prompts
each policy answers right is fixed by the test: base 8 of 24, round 1 20 of 24 (a gain), round 2 4 of 24 (a
significant regression against round 1), round 3 20 of 24."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rlhf.cli import main
from rlhf.rounds import config_from_dict
from rounds_helpers import prompt_row, tiny_recipe, write_recipe

N = 24


def _recipe(tiny_lm_dir, tiny_rm_dir, judges) -> dict:
    recipe = tiny_recipe(tiny_lm_dir, tiny_rm_dir, seed_pairs=False)
    recipe["judges"] = judges
    return recipe


def _answers(store, config, checkpoint_id: str, n_right: int) -> None:
    sc = config.eval_sampling
    store.append(
        "generations",
        [
            {
                "checkpoint_id": checkpoint_id,
                "prompt_id": f"eval-{i:02d}",
                "params_hash": sc.params_hash,
                "params": sc.params_json,
                "sample_index": 0,
                "text": f"The answer is {2 * i}." if i < n_right else "I do not know.",
                "finish_reason": "stop",
                "backend": "test",
            }
            for i in range(N)
        ],
    )


def _no_nan(constant: str):
    raise AssertionError(f"not strict JSON: {constant}")


def _cli(store, *args):
    return CliRunner().invoke(main, ["--store", str(store.root), *args], catch_exceptions=False)


@pytest.fixture
def gated(store, tiny_lm_dir, tiny_rm_dir, tmp_path):
    from rlhf.rounds import checkpoint as ckpt
    from rlhf.tiny import make_tiny_lm

    reference = _recipe(
        tiny_lm_dir, tiny_rm_dir, [{"kind": "reference", "name": "reference", "primary": True}]
    )
    path = write_recipe(tmp_path / "reference.yaml", reference)
    config = config_from_dict(reference)
    store.append(
        "prompts",
        [
            prompt_row(
                f"eval-{i:02d}", f"What is {i} plus {i}?", "eval", category="math", reference=str(2 * i)
            )
            for i in range(N)
        ]
        + [prompt_row("train-0", "What is 1 plus 2?", "train", reference="3")],
    )
    base = ckpt.register_base(store, str(tiny_lm_dir)).checkpoint_id
    _answers(store, config, base, 8)
    _answers(store, config, "round-001-policy", 20)
    _answers(store, config, "round-002-policy", 4)
    _answers(store, config, "round-003-policy", 20)  # as right as the champion: only its judge can tell
    uploads = [make_tiny_lm(tmp_path / f"upload-{i}", seed=i) for i in (1, 2, 3)]
    return {"recipe": path, "config": config, "base": base, "uploads": uploads, "tmp": tmp_path}


def test_reject_hold_promote_and_manual_decisions(store, gated, tiny_lm_dir, tiny_rm_dir):
    from rlhf.rounds import plan_round

    recipe, uploads = str(gated["recipe"]), gated["uploads"]
    # round 1: 8/24 -> 20/24 right against the starting policy: promoted, exit 0, the champion moves
    first = _cli(store, "round", "add", "--checkpoint", str(uploads[0]), "--config", recipe)
    assert first.exit_code == 0, first.output
    assert "decision round-001: PROMOTE round-001-policy vs champion " + gated["base"] in first.output
    champion = json.loads(_cli(store, "champion", "--json").output)
    assert champion["checkpoint_id"] == "round-001-policy" and champion["source"].startswith(
        "promoted by the gate"
    )

    # round 2: 20/24 -> 4/24 against the champion: a significant regression, rejected, exit 4
    second = _cli(store, "round", "add", "--checkpoint", str(uploads[1]), "--config", recipe, "--json")
    assert second.exit_code == 4, second.output
    added = json.loads(second.stdout, parse_constant=_no_nan)  # stdout: the decision record alone
    assert "[evaluate] done" in second.stderr
    decided = json.loads(_cli(store, "gate", "--round", "round-002", "--json").output)
    assert added == decided
    assert decided["decision"] == "reject" and decided["champion_id"] == "round-001-policy"
    criteria = {c["name"]: c for c in decided["criteria"]}
    assert criteria["regression"]["outcome"] == "reject"
    assert criteria["reference accuracy"]["outcome"] == "reject"
    assert criteria["reference accuracy"]["value"] == pytest.approx(2 / 2**16)  # 16 lost, 0 gained
    assert decided["statistics"]["reference"]["lost"] == 16 and decided["rule"]["rule"] == "non_inferiority"
    assert decided["rule_hash"] == gated["config"].gate.rule_hash()
    # the gate reports the recorded decision again, with the same exit code, and records nothing more
    again = _cli(store, "gate", "--round", "round-002")
    assert again.exit_code == 4 and again.output.startswith("round-002: REJECT")
    assert store.count("decisions") == 2

    # the verdict reports round 2 against its champion and, with the headline judge, against round 0; the
    # looks at round 0 (round 1's champion row, round 2's comparison) are Holm-adjusted together
    from judges.stats.significance import holm
    from rlhf.rounds.verdict import format_verdict, verdict_rows

    rows = verdict_rows(store)
    assert [(r.round_id, r.against) for r in rows] == [
        ("round-001", "champion = round 0"),
        ("round-002", "champion"),
        ("round-002", "round 0"),
    ]
    vs_round0 = rows[2]
    assert (vs_round0.model_a, vs_round0.model_b) == (gated["base"], "round-002-policy")
    assert vs_round0.win_rate == pytest.approx(0.5 * 20 / 24)  # 4 of base's 8 right answers lost, 20 ties
    looks = [rows[0], rows[2]]
    assert [r.p_adjusted for r in looks] == pytest.approx(list(holm([r.p_value for r in looks])))
    assert rows[1].p_adjusted is None
    text = format_verdict(rows)
    assert "Holm-adjusted over 2 look(s) at round 0" in text and "round-002's policy wins 42%" in text

    # round 3 starts from round 1's policy, not from the rejected round 2's
    plan = plan_round(gated["config"], store)
    assert plan.parent_policy_id == "round-001-policy" and plan.parent_policy_path == str(
        uploads[0].resolve()
    )
    # judged only by the tiny LM, which fails its canaries: held (exit 3), never promoted
    llm_only = _recipe(
        tiny_lm_dir,
        tiny_rm_dir,
        [{"kind": "llm", "name": "llm-tiny", "model": str(tiny_lm_dir), "max_length": 512}],
    )
    held = _cli(
        store,
        "round",
        "add",
        "--checkpoint",
        str(uploads[2]),
        "--config",
        str(write_recipe(gated["tmp"] / "llm.yaml", llm_only)),
    )
    assert held.exit_code == 3, held.output
    assert "NOT informative" in held.output and "decision round-003: HOLD" in held.output
    parent = store.query(
        "SELECT parent_checkpoint_id FROM checkpoints WHERE checkpoint_id = 'round-003-policy'"
    )
    assert parent["parent_checkpoint_id"].iloc[0] == "round-001-policy"
    markdown = _cli(store, "gate", "--round", "round-003", "--format", "markdown")
    assert markdown.exit_code == 3
    assert markdown.output.startswith(
        "**HOLD** round\\-003: round\\-003\\-policy vs champion round\\-001\\-policy"
    )
    assert "- judge: none passed its canaries" in markdown.output
    assert json.loads(_cli(store, "champion", "--json").output)["checkpoint_id"] == "round-001-policy"

    # another rule on the recorded judgments: a dry run decides and records nothing
    strict = dict(
        json.loads(json.dumps(_recipe(tiny_lm_dir, tiny_rm_dir, [{"kind": "reference", "primary": True}])))
    )
    strict["gate"] = {"min_prompts": 30}
    strict_path = write_recipe(gated["tmp"] / "strict.yaml", strict)
    dry = _cli(store, "gate", "--round", "round-001", "--dry-run", "--config", str(strict_path), "--json")
    assert dry.exit_code == 3 and json.loads(dry.output)["decision"] == "hold"
    assert json.loads(dry.output)["reason"] == "24 scored prompts, fewer than 30"
    assert store.count("decisions") == 3 and _cli(store, "gate", "--round", "round-001").exit_code == 0

    # a manual override: promote round 3's policy with a reason, then reject it; both recorded, nothing rewritten
    promoted = _cli(
        store, "promote", "--checkpoint", "round-003-policy", "--reason", "reviewed by hand", "--json"
    )
    assert promoted.exit_code == 0, promoted.output
    record = json.loads(promoted.output)
    assert record["manual"] is True and record["reason"] == "reviewed by hand" and record["decided_by"]
    assert json.loads(_cli(store, "champion", "--json").output)["checkpoint_id"] == "round-003-policy"
    assert (
        _cli(store, "reject", "--checkpoint", "round-003", "--reason", "regressed in review").exit_code == 0
    )
    champion = json.loads(_cli(store, "champion", "--json").output)
    assert champion["checkpoint_id"] == "round-001-policy"
    assert [e["checkpoint_id"] for e in champion["lineage"]] == [
        gated["base"],
        "round-001-policy",
        "round-003-policy",
        "round-001-policy",
    ]
    rows = store.query("SELECT decision, manual, reason FROM decisions ORDER BY created_at")
    assert rows["decision"].tolist() == ["promote", "reject", "hold", "promote", "reject"]
    assert rows["manual"].tolist() == [False, False, False, True, True]
    assert (
        store.query("SELECT decision FROM decisions WHERE decision_id = 'gate:round-003'")["decision"].iloc[0]
        == "hold"
    )


def test_bad_input_exits_2_and_records_nothing(store, gated):
    assert _cli(store, "gate", "--round", "round-009").exit_code == 2
    unknown = _cli(store, "gate", "--round", "round-009")
    assert "round 'round-009' has no finished evaluation; evaluated rounds: none yet" in unknown.output
    bad = _cli(store, "promote", "--checkpoint", "nope", "--reason", "x")
    assert bad.exit_code == 2 and "no policy checkpoint or round 'nope'" in bad.output
    assert gated["base"] in bad.output  # the valid choices are named
    gate_file = gated["tmp"] / "bad-gate.yaml"
    recipe = json.loads(
        json.dumps(_recipe(gated["uploads"][0], gated["uploads"][0], [{"kind": "reference"}]))
    )
    recipe["gate"] = {"margin": 0.7}
    write_recipe(gate_file, recipe)
    impossible = _cli(store, "gate", "--round", "round-001", "--dry-run", "--config", str(gate_file))
    assert impossible.exit_code == 2 and "gate.margin: must be in [0, 0.5), got 0.7" in impossible.output
    assert store.count("decisions") == 0


@pytest.mark.slow  # a second process imports torch: about 20 s of CPU
def test_round_killed_before_its_decision_is_decided_on_resume_once(store, gated):
    import os
    import signal
    import subprocess
    import sys

    from rlhf.rounds.events import CRASH_ENV

    upload, recipe = str(gated["uploads"][0]), str(gated["recipe"])
    args = ["--store", str(store.root), "round", "add", "--checkpoint", upload, "--config", recipe]
    crashed = subprocess.run(
        [sys.executable, "-m", "rlhf.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, CRASH_ENV: "decide"},
        timeout=300,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    stages = dict(store.query("SELECT stage, status FROM round_stages WHERE round_id = 'round-001'").values)
    assert stages["evaluate"] == "done" and store.count("decisions") == 0
    resumed = _cli(store, *args[2:])
    assert (
        resumed.exit_code == 0
        and "round round-001" in resumed.output
        and "[evaluate] already done" in resumed.output
    )
    assert store.count("decisions") == 1
    assert store.query("SELECT status FROM rounds")["status"].tolist() == ["done"]
