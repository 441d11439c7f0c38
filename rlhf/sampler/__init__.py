"""The sampler: answer a prompt set with a checkpoint, generating only what the store lacks.

``sample(store, checkpoint, prompts=..., config=SamplerConfig(...))`` is what the round orchestrator and
``rlhf sample`` call. Backends: transformers (default), vLLM (optional, GPU), any OpenAI-compatible server.
"""

from rlhf.sampler.backend import GenerationOutput, GenerationRequest, SamplingBackend
from rlhf.sampler.checkpoint import CheckpointError, ResolvedCheckpoint, resolve_checkpoint
from rlhf.sampler.config import SAMPLER_VERSION, SamplerConfig, derive_seed
from rlhf.sampler.prompts import PromptError, PromptSet, read_prompt_file, select_prompts
from rlhf.sampler.run import Progress, SamplePlan, SampleResult, plan, sample

__all__ = [
    "SAMPLER_VERSION",
    "CheckpointError",
    "GenerationOutput",
    "GenerationRequest",
    "Progress",
    "PromptError",
    "PromptSet",
    "ResolvedCheckpoint",
    "SamplePlan",
    "SampleResult",
    "SamplerConfig",
    "SamplingBackend",
    "derive_seed",
    "plan",
    "read_prompt_file",
    "resolve_checkpoint",
    "sample",
    "select_prompts",
]
