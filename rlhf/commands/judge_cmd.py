"""`rlhf judge` and `rlhf tag`: run a configured judge over two checkpoints' answers, or tag prompts.

`rlhf judge --judge CONFIG.yaml|NAME|KIND --baseline OLD --model NEW [--round R]` (aliases --model-a OLD,
--model-b NEW) judges every prompt both checkpoints answered, in both orders, and writes `judgments` rows (P(NEW better), un-mirrored).
With `--round R` alone, NEW is that round's policy checkpoint and OLD its parent checkpoint.
Reruns reuse the cache (no model calls for pairs already judged) and resume a crashed run.
Exit codes: 0 done; 1 the run failed (server down, retryable failures left); 2 bad input.
"""

from __future__ import annotations

import json

import click

from rlhf.commands import BadInput
from rlhf.commands import store_from as _store
from rlhf.commands.strict_json import echo_json
from rlhf.store import Store


def builtin_for(value: str, expected_kinds: tuple[str, ...]) -> str | None:
    """The built-in config a kind names where that is unambiguous (``llm`` -> ``llm-default``: the one of its
    kind, else the kind's ``-default``), None otherwise.

    >>> builtin_for("llm", ("llm", "reference")), builtin_for("reference", ("llm", "reference"))
    ('llm-default', 'reference')
    >>> builtin_for("tagger", ("llm", "reference")) is None
    True
    """
    from judges.config import BUILTIN

    if value not in expected_kinds:
        return None
    of_kind = [name for name, config in BUILTIN.items() if config.kind == value]
    if len(of_kind) == 1:
        return of_kind[0]
    return f"{value}-default" if f"{value}-default" in of_kind else None


def _config(value: str, expected_kinds: tuple[str, ...], option: str):
    from pathlib import Path

    from judges.config import BUILTIN, resolve_config

    by_kind = None if value in BUILTIN or Path(value).exists() else builtin_for(value, expected_kinds)
    if by_kind is not None:
        click.echo(f"{option} {value}: the built-in {value} judge {by_kind!r}", err=True)
        value = by_kind
    try:
        config = resolve_config(value)
    except FileNotFoundError as exc:
        raise BadInput(f"{option} {value}: {exc}") from None
    except ValueError as exc:
        if not str(exc).startswith(f"unknown judge {value!r}"):  # not a nested error (a panel's member)
            raise BadInput(f"{option} {value}: {exc}") from None
        usable = [name for name, c in BUILTIN.items() if c.kind in expected_kinds]
        raise BadInput(
            f"{option} {value}: unknown; give a YAML config path, a built-in name ({', '.join(usable)}) or a "
            f"kind ({', '.join(k for k in expected_kinds if builtin_for(k, expected_kinds))})"
        ) from None
    if config.kind not in expected_kinds:
        raise BadInput(
            f"{option} {value}: kind {config.kind!r} cannot be used here; expected {', '.join(expected_kinds)}"
        )
    return config


_PAIRWISE = ("llm", "openai", "reward", "reference", "panel")


def _build(config, spec: str, store: Store):
    """The judge ``config`` describes; a panel also screens its members' canaries here (exit 1 when a member's
    server fails them retryably, 2 when the judge cannot be built)."""
    from judges.canaries import CanaryError
    from judges.registry import build_judge
    from rlhf.openai_client import OpenAIClientError

    try:
        judge = build_judge(config, store=store)
    except (CanaryError, OpenAIClientError) as exc:
        raise click.ClickException(f"--judge {spec}: {exc}") from None  # exit 1: rerun to retry
    except (OSError, ValueError) as exc:
        raise BadInput(f"--judge {spec}: cannot build judge {config.name}: {exc}") from None
    for line in _panel_lines(judge):
        click.echo(line, err=True)
    return judge


def _panel_lines(judge) -> list[str]:
    """What a panel is made of: its rule, members, and the members left out (and why)."""
    from judges.panel_judge import PanelJudge

    if not isinstance(judge, PanelJudge):
        return []
    lines = [
        f"panel {judge.judge_id} ({judge.config.rule}): members "
        + ", ".join(f"{m.judge_id} [{m.judge_version}]" for m in judge.members)
    ]
    lines += [f"  left out: {e.judge} [{e.judge_version}]: {e.reason}" for e in judge.excluded]
    if judge.unchecked:
        lines.append(
            f"  no canaries (no reference prompts in the store): {', '.join(judge.unchecked)} kept unchecked"
        )
    return lines


def _panel_dict(judge) -> dict | None:
    from judges.panel_judge import PanelJudge

    return judge.describe() if isinstance(judge, PanelJudge) else None


def _headline_spec(store: Store) -> str:
    """The store's headline judge (as `rlhf winrate` reads it) when it is a built-in judge, said on stderr."""
    from judges.config import BUILTIN
    from rlhf.commands.judge_choice import headline_among
    from rlhf.store.queries.judgments import judge_versions

    versions = judge_versions(store)
    latest = {
        str(j): (v if isinstance(v, str) else None)
        for j, v in zip(versions["judge"], versions["judge_version"])
    }
    chosen, why = headline_among(store, latest)
    if chosen is None or chosen not in BUILTIN:
        raise BadInput(
            "give --judge CONFIG.yaml|NAME|KIND (or a subcommand: rlhf judge canaries); "
            + (
                f"the store's headline judge {chosen!r} is not a built-in judge"
                if chosen
                else "the store has no headline judge yet"
            )
        )
    click.echo(f"--judge {chosen}: the store's headline judge ({why})", err=True)
    return chosen


def _round_models(store: Store, round_id: str) -> tuple[str, str]:
    from rlhf.store.queries.checkpoints import policy_rounds, round_policy

    found = round_policy(store, round_id)
    if found is None:
        raise BadInput(
            f"--round {round_id}: no policy checkpoint recorded for it; known rounds: "
            f"{', '.join(policy_rounds(store)) or 'none'}"
        )
    new, parent = found
    if parent is None:
        raise BadInput(f"--round {round_id}: checkpoint {new} has no parent checkpoint; give --model-a")
    return parent, new


def _check_models(store: Store, *models: str) -> None:
    from rlhf.store.queries.generations import checkpoints_with_generations

    known = checkpoints_with_generations(store)
    for model in models:
        if model not in known:
            raise BadInput(
                f"no generations for checkpoint {model!r}; checkpoints with generations: "
                f"{', '.join(sorted(known)) or 'none'}"
            )


@click.group(invoke_without_command=True)
@click.option(
    "--judge",
    "judge_spec",
    default=None,
    help="Judge config YAML, a built-in name (llm-default, llm-reasoning, reference) or a kind (llm, "
    "reference) [default: the store's headline judge where that is a built-in, said on stderr].",
)
@click.option(
    "--baseline",
    "--model-a",
    "model_a",
    default=None,
    help="The checkpoint compared with (A; alias --model-a).",
)
@click.option(
    "--model",
    "--model-b",
    "model_b",
    default=None,
    help="The checkpoint being evaluated (B; alias --model-b); preference = P(B better).",
)
@click.option(
    "--round",
    "round_id",
    default=None,
    help="Record the judgments for this round; alone, judge its policy vs its parent.",
)
@click.option("--prompt-id", "prompt_ids", multiple=True, help="Only these prompts (repeatable).")
@click.option("--one-order", is_flag=True, help="One order per prompt (chosen from its id) instead of both.")
@click.option("--params-hash", default=None, help="Only generations made with these sampling parameters.")
@click.option(
    "--chunk", default=32, show_default=True, type=click.IntRange(1), help="Prompts per committed chunk."
)
@click.option("--threads", default=None, type=click.IntRange(1), help="torch CPU threads.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the requests still to make (after the cache), estimated tokens and cost; judge nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
def judge(
    ctx,
    judge_spec,
    model_a,
    model_b,
    round_id,
    prompt_ids,
    one_order,
    params_hash,
    chunk,
    threads,
    dry_run,
    as_json,
):
    """Judge two checkpoints' answers in both orders and store the verdicts (`rlhf judge canaries`: can a judge tell?)."""
    if ctx.invoked_subcommand is not None:
        return
    from judges.run import JudgeRunError, judge_pairs, plan_pairs
    from rlhf.openai_client import OpenAIClientError

    config = _config(judge_spec, _PAIRWISE, "--judge") if judge_spec else None  # bad input first
    store = _store(ctx)
    if config is None:
        judge_spec = _headline_spec(store)
        config = _config(judge_spec, _PAIRWISE, "--judge")
    if model_a is None and model_b is None and round_id is not None:
        model_a, model_b = _round_models(store, round_id)
    if not model_a or not model_b:
        raise BadInput(
            "give --model and --baseline (aliases --model-b, --model-a), or --round R to judge a round's "
            "policy against its parent"
        )
    if model_a == model_b:
        raise BadInput(f"--model and --baseline are the same checkpoint ({model_a})")
    _check_models(store, model_a, model_b)
    if threads:
        import torch

        torch.set_num_threads(threads)
    judge_obj = _build(config, judge_spec, store)

    if dry_run:
        try:
            plan = plan_pairs(
                store,
                judge_obj,
                model_a,
                model_b,
                prompts=list(prompt_ids) or None,
                both_orders=not one_order,
                params_hash=params_hash,
            )
        except OpenAIClientError as exc:
            raise click.ClickException(str(exc)) from None
        if as_json:
            echo_json(plan.as_dict())
        else:
            click.echo(_plan_summary(config.name, plan))
        return

    from tqdm import tqdm

    bar = tqdm(total=0, unit="verdict", desc=f"judge {config.name}", disable=as_json, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        result = judge_pairs(
            store,
            judge_obj,
            model_a,
            model_b,
            prompts=list(prompt_ids) or None,
            round_id=round_id,
            both_orders=not one_order,
            params_hash=params_hash,
            chunk_prompts=chunk,
            progress=progress,
        )
    except (JudgeRunError, OpenAIClientError) as exc:
        bar.close()
        raise click.ClickException(str(exc)) from None  # exit 1: the job failed
    bar.close()
    if as_json:
        out = result.as_dict()
        panel = _panel_dict(judge_obj)
        if panel is not None:
            out["panel"] = panel
        echo_json(out)
    else:
        click.echo(_summary(result))
    if result.n_retry_failed:
        raise click.ClickException(
            f"{result.n_retry_failed} verdicts failed with retryable errors; rerun to retry them"
        )


def _plan_summary(name: str, plan) -> str:
    if plan.prompt_tokens is None:
        cost = "tokens and cost: not estimated (a local judge makes no API requests)"
    else:
        cost = (
            f"estimated at most {plan.prompt_tokens} prompt + {plan.completion_tokens} completion tokens, "
            f"${plan.cost_usd:.4f}"
        )
    return (
        f"judge {name} (dry run, nothing judged or written): {plan.n_prompts} prompts, {plan.n_verdicts} verdicts, "
        f"{plan.n_cached} already cached; {plan.n_requests} requests to make; {cost}"
    )


def _summary(r) -> str:
    pc = (
        "-"
        if r.position_consistency is None
        else f"{r.position_consistency:.3f} ({r.n_consistent}/{r.n_both_scored})"
    )
    wr = "-" if r.win_rate is None else f"{r.win_rate:.3f}"
    lines = [
        f"judge {r.judge} [{r.judge_version}]: {r.model_b} (B) vs {r.model_a} (A)"
        + (f", round {r.round_id}" if r.round_id else ""),
        f"  prompts judged: {r.n_prompts}   answered by one side only: {r.n_missing}"
        + (f"   skipped, no reference answer: {r.n_no_reference}" if r.n_no_reference else ""),
        f"  verdicts: {r.n_verdicts} ({r.n_judged} judged now, {r.n_cached} from cache), rows added: {r.n_rows_added}",
        f"  unscored: {r.n_unscored}   retryable failures (not stored): {r.n_retry_failed}"
        + f"   requests retried: {r.n_retries}",
        f"  mean P(B better) over prompts: {wr}   position consistency: {pc}",
        f"  tokens: {r.prompt_tokens} prompt + {r.completion_tokens} completion, cost ${r.cost_usd:.4f}, {r.elapsed_s:.1f} s",
    ]
    if r.n_rationales:
        lines.append(f"  rationales generated: {r.n_rationales}")
    for error in r.errors:
        lines.append(f"  error: {error[:200]}")
    lines.append("  (win rate with intervals: rlhf winrate --model B --baseline A --judge J)")
    return "\n".join(lines)


@judge.command("canaries")
@click.option(
    "--judge",
    "judge_specs",
    multiple=True,
    help="Judge config YAML or built-in name to score (repeatable); without it, show the stored results.",
)
@click.option(
    "--max-prompts",
    default=64,
    show_default=True,
    type=click.IntRange(1),
    help="Reference prompts to build canaries from (a fixed subset chosen by hash).",
)
@click.option(
    "--force", is_flag=True, help="Recompute the summary even if stored (verdicts still come from the cache)."
)
@click.option(
    "--stop-early",
    is_flag=True,
    help="Stop once the judge can no longer pass (same pass/fail as a full run; a judge that passes runs all).",
)
@click.option("--threads", default=None, type=click.IntRange(1), help="torch CPU threads.")
@click.option("--json", "as_json", is_flag=True, help="Print runs and stored results as JSON.")
@click.pass_context
def canaries(ctx, judge_specs, max_prompts, force, stop_early, threads, as_json):
    """Score judges on pairs whose better answer is known; a judge whose accuracy interval does not lie above
    50% is uninformative (at chance: a coin; below: it prefers the wrong answer). Once per judge version: a
    rerun judges nothing."""
    from judges.canaries import CanaryError, run_canaries
    from rlhf.openai_client import OpenAIClientError
    from rlhf.store.queries.canaries import canary_results

    configs = [_config(spec, _PAIRWISE, "--judge") for spec in judge_specs]
    store = _store(ctx)
    if threads:
        import torch

        torch.set_num_threads(threads)
    runs = []
    for spec, config in zip(judge_specs, configs):
        judge_obj = _build(config, spec, store)
        try:
            run = run_canaries(store, judge_obj, max_prompts=max_prompts, force=force, stop_early=stop_early)
        except CanaryError as exc:
            if "no prompt in the store" in str(exc):
                raise BadInput(str(exc)) from None
            raise click.ClickException(str(exc)) from None  # exit 1: retryable failures left
        except OpenAIClientError as exc:
            raise click.ClickException(str(exc)) from None
        runs.append(run)
        if not as_json:
            click.echo(_canary_summary(run))
    results = canary_results(store)
    if as_json:
        rows = json.loads(results.to_json(orient="records", date_format="iso"))
        echo_json({"runs": [r.as_dict() for r in runs], "results": rows})
        return
    if not runs:
        click.echo(_canary_table(results))


def _pct(value) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


def _canary_summary(run) -> str:
    s = run.summary
    from judges.stats.canary import against_chance, chance_sentence, kinds_against_chance, stopped_sentence

    if s.informative:
        verdict = "informative"
    elif s.stopped_early is not None:
        failed = kinds_against_chance(s.ci_by_kind, s.failed_kinds) or "the pooled interval"
        verdict = f"NOT informative ({failed}); {stopped_sentence(s.stopped_early)}"
    elif against_chance(s.ci_low, s.ci_high) == "above chance":
        verdict = (
            f"NOT informative: above 50% pooled, but {kinds_against_chance(s.ci_by_kind, s.failed_kinds)} "
            "(each kind must beat 50%)"
        )
    else:
        verdict = f"NOT informative ({chance_sentence(s.ci_low, s.ci_high)})"
    how = (
        "stored result reused, 0 judge calls"
        if run.reused
        else f"{run.n_judged} judged now, {run.n_cached} from cache"
    )
    kinds = ", ".join(
        f"{k} {_pct(v)} [{_pct(s.ci_by_kind[k][0])}, {_pct(s.ci_by_kind[k][1])}]"
        for k, v in s.accuracy_by_kind.items()
    )
    return "\n".join(
        [
            f"judge {run.judge} [{run.judge_version}]: canary accuracy {_pct(s.accuracy)} [{_pct(s.ci_low)}, "
            f"{_pct(s.ci_high)}] over {s.n} pairs: {verdict}",
            f"  by kind: {kinds}",
            f"  ties {_pct(s.tie_rate)}   position consistency {_pct(s.position_consistency)} ({s.n_both_orders} pairs)"
            f"   position bias {_pct(s.position_bias)}   length bias {_pct(s.length_bias)}   unscored {s.n_unscored}/{s.n_verdicts}",
            f"  canary set {run.canary_set} ({run.n_canaries} pairs): {how}, {run.seconds:.1f} s",
        ]
    )


def _canary_table(results) -> str:
    if results.empty:
        return "no canary results yet: run `rlhf judge canaries --judge NAME` (or a round's evaluate stage)"
    lines = [
        f"{'judge':<20} {'accuracy':>8} {'95% interval':>16} {'n':>5} {'ties':>6} {'pos.cons':>8} "
        f"{'len.bias':>8}  verdict   version"
    ]
    for r in results.itertuples(index=False):
        lines.append(
            f"{r.judge!s:<20} {_pct(r.accuracy):>8} {'[' + _pct(r.ci_low) + ', ' + _pct(r.ci_high) + ']':>16} "
            f"{int(r.n):>5} {_pct(r.tie_rate):>6} {_pct(r.position_consistency):>8} {_pct(r.length_bias):>8}  "
            f"{'informative' if r.informative else 'UNINFORMATIVE':<9} {r.judge_version}"
        )
        if r.stopped_early:
            lines.append(f"{'':<20} stopped early after {r.stopped_early}")
    return "\n".join(lines)


@judge.command("report")
@click.option(
    "--judge", "judge_name", default=None, help="Only this judge's versions (default: every judge)."
)
@click.option("--judge-version", default=None, help="Only this judge version.")
@click.option("--json", "as_json", is_flag=True, help="Print the report cards as JSON.")
@click.pass_context
def report(ctx, judge_name, judge_version, as_json):
    """The report card of each judge version: canaries per kind, position consistency, P(prefers longer),
    P(prefers markdown-heavy answers), first-position, tie and unscored rates (by cause), agreement with human
    labels (Cohen's kappa with an interval), time, tokens and cost per 1,000 verdicts."""
    from judges.stats.report_card import report_cards
    from rlhf.store.queries.canaries import canary_results
    from rlhf.store.queries.judgments import judge_versions, report_rows

    store = _store(ctx)
    canaries = canary_results(store)
    if judge_name is not None:
        canaries = canaries[canaries["judge"] == judge_name]
    cards = [c for c in report_cards(report_rows(store, judge=judge_name), canaries) if c.judge != "human"]
    if judge_name is not None and not cards:
        names = set(judge_versions(store)["judge"].dropna()) - {"human"} | set(canary_results(store)["judge"])
        raise BadInput(
            f"--judge {judge_name}: no verdicts or canary results; judges: {', '.join(sorted(names)) or 'none'}"
        )
    if judge_version is not None:
        versions = sorted(str(c.judge_version) for c in cards)
        cards = [c for c in cards if c.judge_version == judge_version]
        if not cards:
            raise BadInput(
                f"--judge-version {judge_version}: not found; versions: {', '.join(versions) or 'none'}"
            )
    if as_json:
        echo_json([c.to_dict() for c in cards])
        return
    if not cards:
        click.echo("no judge verdicts or canary results yet: run `rlhf judge` or `rlhf judge canaries`")
        return
    click.echo("\n\n".join(_card_text(c) for c in cards))


def _side(value: float | None, low_text: str, high_text: str) -> str:
    """How a rate whose neutral value is one half reads: computed from the number beside it."""
    if value is None:
        return ""
    if value > 0.5:
        return f" ({high_text})"
    if value < 0.5:
        return f" ({low_text})"
    return " (neither)"


def _n(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _card_text(c) -> str:
    lines = [f"judge {c.judge} [{c.judge_version}]: {c.n_verdicts} verdicts, {c.n_scored} scored"]
    if c.canary_informative is None:
        lines.append("  canaries: none stored (rlhf judge canaries --judge ...)")
    else:
        verdict = "informative" if c.canary_informative else "NOT informative"
        kinds = ", ".join(
            f"{kind} {_pct(v['accuracy'])} [{_pct(v['ci_low'])}, {_pct(v['ci_high'])}]"
            for kind, v in c.canary_by_kind.items()
        )
        lines.append(
            f"  canaries: accuracy {_pct(c.canary_accuracy)} [{_pct(c.canary_ci[0])}, {_pct(c.canary_ci[1])}], "
            f"{verdict}; by kind: {kinds or '-'}"
        )
        if c.canary_stopped:
            lines.append(f"  canaries {c.canary_stopped}")
    causes = ", ".join(f"{cause.replace('_', ' ')} {n}" for cause, n in c.unscored_by_cause.items())
    lines += [
        f"  position consistency {_pct(c.position_consistency)} ({c.n_consistency_items} items in both orders)   "
        f"first-position rate {_pct(c.first_position_rate)}"
        + _side(c.first_position_rate, "favours the second shown", "favours the first shown"),
        f"  ties {_pct(c.tie_rate)}   unscored {_pct(c.unscored_rate)} ({causes})",
        f"  P(prefers longer) {_pct(c.p_prefers_longer)} over {c.n_length_verdicts} verdicts"
        + _side(c.p_prefers_longer, "favours shorter", "favours longer")
        + f"   P(prefers markdown-heavy) {_pct(c.p_prefers_markdown)} over {c.n_markdown_verdicts} verdicts"
        + _side(c.p_prefers_markdown, "favours less markdown", "favours more markdown"),
    ]
    if c.human_n:
        lines.append(
            f"  agreement with human labels: kappa {_pct(c.human_kappa)} [{_pct(c.human_kappa_ci[0])}, "
            f"{_pct(c.human_kappa_ci[1])}] on {c.human_n} items ({_pct(c.human_agreement)} in the same class)"
        )
    else:
        lines.append("  agreement with human labels: no item judged by both this judge and a human")
    if c.n_timed or c.n_costed:
        parts = [f"{c.seconds_per_1000:.3g} s" if c.seconds_per_1000 is not None else "time not recorded"]
        if c.prompt_tokens_per_1000 is not None or c.completion_tokens_per_1000 is not None:
            parts.append(
                f"{_n(c.prompt_tokens_per_1000, 0)} prompt + {_n(c.completion_tokens_per_1000, 0)} completion tokens"
            )
        if c.cost_usd_per_1000 is not None:
            parts.append(f"${c.cost_usd_per_1000:.4g}")
        if c.retries_per_1000 is not None:
            parts.append(f"{c.retries_per_1000:.4g} retried requests")
        lines.append(
            f"  per 1,000 verdicts: {', '.join(parts)} (time recorded on {c.n_timed} of {c.n_verdicts} verdicts, "
            f"cost on {c.n_costed})"
        )
    else:
        lines.append("  per 1,000 verdicts: no time or cost recorded")
    if c.member_agreement:
        lines.append(
            "  members vs the panel (same side of 0.5, on pairs both scored): "
            + ", ".join(f"{a['member']} {_pct(a['agreement'])} of {a['n']}" for a in c.member_agreement)
        )
    return "\n".join(lines)


@click.command()
@click.option(
    "--tagger",
    "tagger_spec",
    default="tagger-default",
    show_default=True,
    help="Tagger config YAML or built-in name.",
)
@click.option("--all", "include_categorised", is_flag=True, help="Also tag prompts that have a category.")
@click.option("--prompt-id", "prompt_ids", multiple=True, help="Only these prompts (repeatable).")
@click.option("--threads", default=None, type=click.IntRange(1), help="torch CPU threads.")
@click.option("--json", "as_json", is_flag=True, help="Print the tagging summary as JSON.")
@click.pass_context
def tag(ctx, tagger_spec, include_categorised, prompt_ids, threads, as_json):
    """Label prompts that lack a category with one of the configured categories (zero-shot)."""
    from judges.tagger import PromptTagger, tag_prompts

    config = _config(tagger_spec, ("tagger",), "--tagger")
    store = _store(ctx)
    if threads:
        import torch

        torch.set_num_threads(threads)
    try:
        tagger = PromptTagger(config)
    except (OSError, ValueError) as exc:
        raise BadInput(f"--tagger {tagger_spec}: cannot load model {config.model}: {exc}") from None
    result = tag_prompts(
        store, tagger, prompt_ids=list(prompt_ids) or None, include_categorised=include_categorised
    )
    if as_json:
        echo_json(result.__dict__)
        return
    click.echo(
        f"tagger {result.tagger} [{result.tagger_version}]: {result.n_candidates} prompts need a tag, "
        f"{result.n_tagged} tagged now, {result.n_already} already tagged, {result.n_too_long} too long "
        f"({result.elapsed_s:.1f} s)"
    )
    for category, n in sorted(result.counts.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {category}: {n}")
