"""Engines over a revision manifest (``labelspec.store.manifest``): thin, optional adapters.

``arrow``          pyarrow datasets of the batches in the canonical schema, from this clone's DVC
                   cache or straight from a DVC remote (local or S3); DuckDB reads them too
``spark``          the current labels as a Spark DataFrame (pyspark is not a dependency)
``spark_queries``  Spark versions of the core queries, giving the DuckDB versions' answers
"""
