"""Synthetic labelled tables for the trainer's scale benchmark (docs/TRAINING.md).

    python tools/bench/scale_data.py ROWS COLUMNS OUT.csv [--seed 0] [--test-rows N TEST.csv]

A table of ROWS rows and COLUMNS feature columns plus the target column `y`: three classes
(a 60 / 30 / 10 % mix), two string columns (`s1`: 5 categories, `s2`: 12), about a third of
the numeric columns whole numbers (counts), the rest real numbers (some skewed), about 2 % of
the cells of every third column missing (written as empty cells). Columns are correlated
through 4 shared latent factors; classes differ by moderate mean shifts on half of the
columns and by their category frequencies, so neither the energies nor logistic regression
separate them perfectly. The same seed gives the same bytes; --test-rows writes a second table
from the same distribution (another random stream) for test metrics.
"""

import argparse
import sys

import numpy as np

CLASSES = ["alpha", "beta", "gamma"]
SHARES = [0.6, 0.3, 0.1]


def structure(columns, seed):
    """Fixed per-column parameters (the same for the training and the test table)."""
    rng = np.random.default_rng([seed, 7])
    p = columns - 2  # numeric columns
    loadings = rng.normal(0, 0.8, (4, p))
    shifts = np.zeros((3, p))
    shifted = rng.permutation(p)[: p // 2]
    shifts[1, shifted] = rng.normal(0, 0.6, len(shifted))
    shifts[2, shifted] = rng.normal(0, 0.6, len(shifted))
    kind = np.array(["real", "skew", "count"])[np.arange(p) % 3]
    s1 = np.array([[0.4, 0.3, 0.15, 0.1, 0.05], [0.15, 0.2, 0.3, 0.2, 0.15], [0.1, 0.1, 0.2, 0.25, 0.35]])
    s2 = rng.dirichlet(np.ones(12) * 2, 3)
    return loadings, shifts, kind, s1, s2


def write(rows, columns, path, seed, stream):
    loadings, shifts, kind, s1p, s2p = structure(columns, seed)
    p = columns - 2
    header = [f"x{j:02d}" for j in range(p)]
    header = header[: p // 2] + ["s1"] + header[p // 2 :] + ["s2", "y"]
    rng = np.random.default_rng([seed, stream])
    chunk = 50_000
    with open(path, "w", newline="") as out:
        out.write(",".join(header) + "\n")
        done = 0
        while done < rows:
            m = min(chunk, rows - done)
            y = rng.choice(3, size=m, p=SHARES)
            z = rng.normal(size=(m, 4))
            x = z @ loadings + shifts[y] + rng.normal(0, 0.7, (m, p))
            cells = np.empty((m, p), dtype=object)
            for j in range(p):
                if kind[j] == "real":
                    cells[:, j] = np.char.mod("%.4f", 10 * x[:, j] + 50)
                elif kind[j] == "skew":
                    cells[:, j] = np.char.mod("%.5g", np.exp(0.6 * x[:, j]))
                else:
                    cells[:, j] = np.char.mod("%d", np.maximum(0, np.rint(3 * x[:, j] + 8)).astype(np.int64))
                if j % 3 == 1:
                    cells[rng.random(m) < 0.02, j] = ""
            u1, u2 = rng.random(m), rng.random(m)
            s1 = np.array([f"k{int(np.searchsorted(np.cumsum(s1p[c]), u, side='right'))}" for c, u in zip(y, u1)])
            s2 = np.array([f"c{min(11, int(np.searchsorted(np.cumsum(s2p[c]), u, side='right'))):02d}" for c, u in zip(y, u2)])
            s2[rng.random(m) < 0.02] = ""
            labels = np.array(CLASSES)[y]
            left, right = cells[:, : p // 2], cells[:, p // 2 :]
            table = np.column_stack([left, s1, right, s2, labels])
            out.write("\n".join(",".join(r) for r in table.tolist()) + "\n")
            done += m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rows", type=int)
    ap.add_argument("columns", type=int, help="feature columns (at least 4), two of them strings")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-rows", nargs=2, metavar=("N", "TEST.csv"))
    a = ap.parse_args()
    if a.columns < 4 or a.rows < 1:
        sys.exit("need at least 1 row and 4 columns")
    write(a.rows, a.columns, a.out, a.seed, 1)
    if a.test_rows:
        write(int(a.test_rows[0]), a.columns, a.test_rows[1], a.seed, 2)


if __name__ == "__main__":
    main()
