"""Judges and the statistics over their verdicts.

Judges (typed callables from shown pairs to ``Verdict``s, ``judges.protocol``), their configs
(``judges.config``), the driver that judges two checkpoints in both orders (``judges.run``) and the
statistics core (``judges.stats``) live in their own modules; import what you need from there. This
package file imports nothing, so ``import judges.stats`` loads no judge implementation, HTTP client or
model library.
"""
