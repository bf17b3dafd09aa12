"""Writes tests/data/types.parquet: one eval set whose columns use the Parquet types pandas and
SQL exports produce (int8/int16/uint8/uint16 labels and tokens, float16 confidences, a
DECIMAL(12, 6) cost, a dictionary-encoded task type). Made with pyarrow 22.0.0:

    python3 -m venv /tmp/pa && /tmp/pa/bin/pip install pyarrow==22.0.0
    /tmp/pa/bin/python tests/data/make_parquet_types.py
"""
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

rows = 6
table = pa.table(
    {
        # float16 holds 0.5, 0.25, 0.75, 0.125 exactly.
        "confidence": pa.array([0.5, 0.25, 0.75, 0.125, 0.5, 0.75], type=pa.float16()),
        "small_quality": pa.array([1, 0, 1, 0, 1, 1], type=pa.int8()),
        "large_quality": pa.array([1, 1, 1, 0, 1, 1], type=pa.uint8()),
        "small_cost": pa.array(
            [Decimal("0.000125")] * rows, type=pa.decimal128(12, 6)
        ),
        "large_cost": pa.array([Decimal("0.002500")] * rows, type=pa.decimal128(12, 6)),
        "input_tokens": pa.array([100, 200, 300, 400, 500, 600], type=pa.int16()),
        "small_output_tokens": pa.array([10, 20, 30, 40, 50, 60], type=pa.uint16()),
        "task_type": pa.array(["chat", "code", "chat", "code", "chat", "chat"]).dictionary_encode(),
    }
)
pq.write_table(table, "tests/data/types.parquet")
