"""The Lianyang demo: synthetic community registers and the mapping jobs that ingest them.

    from talentgraph.demo import generate, PIPELINE
    regs = generate(Path("demo-input"), residents=50_000, seed=7)
    specs = load_pipeline(PIPELINE, input_dir=regs.out_dir)   # talentgraph.ingest.mapping
    truth = load_truth(regs.truth)   # Person node id → true person, for scoring entity resolution

Everything is invented: names are assembled from common name parts, ids are built to pass their
check characters, places are plausible but not surveyed.
"""

from talentgraph.demo.generator import JOBS_DIR, PIPELINE, GeneratedRegisters, build, generate
from talentgraph.demo.truth import Scores, load_truth, pairwise_scores

__all__ = ["JOBS_DIR", "PIPELINE", "GeneratedRegisters", "Scores", "build", "generate", "load_truth",
           "pairwise_scores"]
