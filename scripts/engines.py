#!/usr/bin/env python3
"""Runs `calibrate sql` queries on real engines (issue 18): DuckDB and Apache Spark in local mode.

Usage: python scripts/engines.py JOBS.json

JOBS.json is a list of {"engine": "duckdb"|"spark", "input": EVAL.parquet, "query": FILE.sql,
"out": RESULT.parquet}. Each input is registered as the view `evals`, the query runs, and its
result is written to `out` as one Parquet file. Every Spark job shares one local session. Needs
the pinned packages of scripts/engines-requirements.txt (scripts/test.sh installs them).
"""
import glob
import json
import os
import shutil
import sys
import tempfile


def run_duckdb(jobs):
    import duckdb

    for job in jobs:
        con = duckdb.connect()
        path = job["input"].replace("'", "''")
        con.execute(f"CREATE VIEW evals AS SELECT * FROM read_parquet('{path}')")
        query = open(job["query"], encoding="utf-8").read()
        con.sql(query).write_parquet(job["out"])
        con.close()


def run_spark(jobs):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("calibrate-engine-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for job in jobs:
            spark.read.parquet(job["input"]).createOrReplaceTempView("evals")
            query = open(job["query"], encoding="utf-8").read()
            frame = spark.sql(query).coalesce(1)
            with tempfile.TemporaryDirectory() as tmp:
                target = os.path.join(tmp, "out")
                frame.write.parquet(target)
                parts = glob.glob(os.path.join(target, "part-*.parquet"))
                if len(parts) != 1:
                    raise SystemExit(f"spark wrote {len(parts)} part files for {job['query']}")
                shutil.move(parts[0], job["out"])
    finally:
        spark.stop()


def main():
    jobs = json.load(open(sys.argv[1], encoding="utf-8"))
    run_duckdb([j for j in jobs if j["engine"] == "duckdb"])
    spark = [j for j in jobs if j["engine"] == "spark"]
    if spark:
        run_spark(spark)


if __name__ == "__main__":
    main()
