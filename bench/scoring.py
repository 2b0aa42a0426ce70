"""Scoring throughput: 10,000 assessments in one process.

Prints the time per assessment (target: under 0.1 ms on a 2-core machine) and, measured in the
same run, its ratio to a trivial pass over the same answers (summing the levels), so that the
figure can be compared across machines.

    .venv/bin/python -m bench.scoring [N]
"""

import random
import time

from assessment.answers import DONT_KNOW, NOT_APPLICABLE, Answer, AnswerSet
from assessment.paths import DEFAULT_RUBRIC
from assessment.rubric import load_rubric
from assessment.scoring import score
from bench import arguments

REPEATS = 7
VALUES = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, NOT_APPLICABLE, DONT_KNOW]


def make_answer_sets(rubric, count, seed=2025):
    rng = random.Random(seed)
    drivers = [d.id for d in rubric.drivers]
    importance = [i.id for i in rubric.importance]
    return [AnswerSet(answers={q: Answer(rng.choice(VALUES)) for q in rubric.questions if rng.random() < 0.95},
                      drivers={d: rng.choice(importance) for d in drivers})
            for _ in range(count)]


def best_of(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    (count,) = arguments(__doc__, 10_000)
    rubric = load_rubric(DEFAULT_RUBRIC)
    sets = make_answer_sets(rubric, count)
    scoring = best_of(REPEATS, lambda: [score(rubric, s) for s in sets])
    baseline = best_of(REPEATS, lambda: [sum(a.level or 0 for a in s.answers.values()) for s in sets])
    per = scoring / count * 1000
    print(f"scored {count} assessments of {len(rubric.questions)} questions in {scoring:.3f} s (best of {REPEATS})")
    print(f"per assessment: {per:.4f} ms (target < 0.1 ms): {'OK' if per < 0.1 else 'OVER TARGET'}")
    print(f"ratio to a trivial pass over the same answers: {scoring / baseline:.1f}x")


if __name__ == "__main__":
    main()
