"""`rlhf sample --checkpoint X [--prompts eval|FILE]`: answer a prompt set, generating only what is missing."""

from __future__ import annotations

from typing import Any, cast

import click

from rlhf.commands import BadInput, store_from


@click.command()
@click.option(
    "--checkpoint",
    required=True,
    help="Model directory, LoRA adapter, checkpoint_id, 'default', "
    "or a served model name with --backend openai.",
)
@click.option(
    "--prompts",
    "prompts",
    default="eval",
    show_default=True,
    help="Store split (eval | train | all) or a JSONL/CSV/Parquet prompt file.",
)
@click.option("--category", default=None, help="Only prompts of this category.")
@click.option("--id", "ids", multiple=True, help="Only these prompt ids (repeatable).")
@click.option(
    "--samples-per-prompt", "-k", default=1, show_default=True, type=int, help="Answers per prompt (k)."
)
@click.option(
    "--backend",
    type=click.Choice(["transformers", "vllm", "openai"]),
    default="transformers",
    show_default=True,
    help="transformers (local), vllm, or openai (a served model at --base-url).",
)
@click.option("--max-new-tokens", default=256, show_default=True, type=int, help="Tokens an answer may have.")
@click.option("--temperature", default=0.0, show_default=True, type=float, help="0 = greedy.")
@click.option("--top-p", default=1.0, show_default=True, type=float, help="Nucleus sampling mass (1 = off).")
@click.option("--seed", default=0, show_default=True, type=int, help="Sampling seed (recorded per answer).")
@click.option("--batch-size", default=64, show_default=True, type=int, help="Start; halves on out-of-memory.")
@click.option("--chunk-size", default=128, show_default=True, type=int, help="Answers committed per chunk.")
@click.option(
    "--on-too-long",
    type=click.Choice(["skip", "truncate"]),
    default="skip",
    show_default=True,
    help="A prompt longer than the context: skip it (recorded as skipped) or keep its end.",
)
@click.option("--max-prompt-tokens", default=None, type=int, help="Default: context minus max-new-tokens.")
@click.option("--system-prompt", default=None, help="A system message put before every prompt.")
@click.option("--device", default=None, help="cpu | cuda (default: cuda when available).")
@click.option("--threads", default=None, type=int, help="torch CPU threads.")
@click.option("--base-url", default=None, help="OpenAI-compatible server, e.g. http://host:8000/v1")
@click.option("--api-model", default=None, help="Served model name (default: --checkpoint).")
@click.option("--api-key-env", default=None, help="Environment variable holding the API key.")
@click.option(
    "--max-concurrency", default=16, show_default=True, type=int, help="Requests in flight (openai backend)."
)
@click.option("--requests-per-min", default=None, type=float, help="Server limit (openai backend).")
@click.option("--tokens-per-min", default=None, type=float, help="Server limit, estimated tokens.")
@click.option("--prompt-price", default=0.0, type=float, help="USD per million prompt tokens.")
@click.option("--completion-price", default=0.0, type=float, help="USD per million completion tokens.")
@click.option("--budget", "budget_usd", default=None, type=float, help="Stop before passing this many USD.")
@click.option(
    "--dry-run", is_flag=True, help="Print requests still to make, estimated tokens and cost; send nothing."
)
@click.option("--no-progress", is_flag=True, help="No progress bar (the summary line is still printed).")
@click.pass_context
def sample(
    ctx: click.Context,
    checkpoint: str,
    prompts: str,
    category: str | None,
    ids: tuple[str, ...],
    samples_per_prompt: int,
    backend: str,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    seed: int,
    batch_size: int,
    chunk_size: int,
    on_too_long: str,
    max_prompt_tokens: int | None,
    system_prompt: str | None,
    device: str | None,
    threads: int | None,
    base_url: str | None,
    api_model: str | None,
    api_key_env: str | None,
    max_concurrency: int,
    requests_per_min: float | None,
    tokens_per_min: float | None,
    prompt_price: float,
    completion_price: float,
    budget_usd: float | None,
    dry_run: bool,
    no_progress: bool,
) -> None:
    """Answer every selected prompt with CHECKPOINT and store the answers.

    Answers already stored for the same prompt, checkpoint content and sampling parameters are reused;
    a killed run resumes where its last committed chunk ended. Exit 0 when every answer is stored,
    1 when some requests failed or the budget stopped the run (rerun to continue), 2 on bad input
    (nothing written). --dry-run prints what is still to do and writes nothing.
    """
    from rlhf.sampler import SamplerConfig
    from rlhf.sampler import plan as plan_sample
    from rlhf.sampler import sample as run_sample
    from rlhf.sampler.config import Backend, OnTooLong
    from rlhf.sampler.vllm_backend import VLLMNotInstalled

    try:
        config = SamplerConfig(
            backend=cast(Backend, backend),
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
            samples_per_prompt=samples_per_prompt,
            batch_size=batch_size,
            chunk_size=chunk_size,
            on_too_long=cast(OnTooLong, on_too_long),
            max_prompt_tokens=max_prompt_tokens,
            system_prompt=system_prompt,
            device=device,
            num_threads=threads,
            base_url=base_url,
            api_model=api_model,
            api_key_env=api_key_env,
            max_concurrency=max_concurrency,
            requests_per_min=requests_per_min,
            tokens_per_min=tokens_per_min,
            prompt_price_per_mtok=prompt_price,
            completion_price_per_mtok=completion_price,
            budget_usd=budget_usd,
        )
    except ValueError as exc:
        raise click.UsageError(_option_names(str(exc))) from None
    store = store_from(ctx, create=not dry_run)
    if dry_run:
        click.echo(
            plan_sample(
                store, checkpoint, prompts=prompts, category=category, ids=list(ids) or None, config=config
            ).summary()
        )
        return
    bar = _ProgressBar(disabled=no_progress)
    try:
        result = run_sample(
            store,
            checkpoint,
            prompts=prompts,
            category=category,
            ids=list(ids) or None,
            config=config,
            progress=bar,
        )
    except VLLMNotInstalled as exc:
        raise BadInput(str(exc)) from None
    finally:
        bar.close()
    click.echo(result.summary())
    for error in result.errors:
        click.echo(f"  failed: {error}", err=True)
    if result.failed:
        raise click.ClickException(f"{result.failed} answers failed and were not stored; rerun to retry them")
    if result.stopped:
        raise click.ClickException(f"stopped by the budget with {result.not_sent} answers not requested")


_OPTION_OF = {
    "prompt_price_per_mtok": "--prompt-price",
    "completion_price_per_mtok": "--completion-price",
    "budget_usd": "--budget",
    "requests_per_min": "--requests-per-min",
    "tokens_per_min": "--tokens-per-min",
}


def _option_names(message: str) -> str:
    """A config error in the words of this command's options (``budget_usd`` -> ``--budget``)."""
    for key, option in _OPTION_OF.items():
        message = message.replace(key, option)
    return message


class _ProgressBar:
    """tqdm over answers: done/total, tokens/s and time left (tqdm's ETA)."""

    def __init__(self, *, disabled: bool) -> None:
        self.disabled = disabled
        self.bar: Any = None  # a tqdm bar once the first progress arrives

    def __call__(self, progress) -> None:
        if self.disabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=progress.total, unit="answer", desc="sampling", dynamic_ncols=True)
        bar = self.bar
        bar.update(progress.done - bar.n)
        rate = progress.completion_tokens / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
        bar.set_postfix(tok_s=f"{rate:.1f}", committed=progress.committed, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
