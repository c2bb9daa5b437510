"""The review's rows made without the general helpers say what those helpers say."""

import random

from auditlog.projections.summary import STATUSES, Totals
from auditlog.reports.review import _flat


def test_a_matrix_row_is_what_totals_flat_gives() -> None:
    rng = random.Random(9)
    n = len(STATUSES)
    for _case in range(2000):
        # zeros often: a status with no recommendation, nothing to recover, nothing deposited
        sums = [rng.choice((0, 0, 1, 7, rng.randrange(10**12))) for _i in range(2 * n + 2)]
        expected = Totals(dict(zip(STATUSES, sums[:n], strict=True)),
                          dict(zip(STATUSES, sums[n:2 * n], strict=True)),
                          sums[-2], sums[-1]).flat()
        row = _flat(sums)
        assert row == expected
        assert list(row) == list(expected)  # the columns' order too (JSON keeps it)
