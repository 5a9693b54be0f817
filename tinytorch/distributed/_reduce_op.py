"""``ReduceOp``: how a reduction combines the ranks' values (``ReduceOp.SUM``, ``ReduceOp.AVG``...)."""

import enum


class ReduceOp:
    """The reduction of ``all_reduce``, ``reduce`` and ``reduce_scatter_tensor``.

    ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX`` on every dtype (booleans: SUM and MAX
    are a logical or, PRODUCT and MIN a logical and); ``BAND``, ``BOR``, ``BXOR`` on integers and
    booleans. ``AVG`` of integers truncates towards zero (as NCCL's does).
    """

    class RedOpType(enum.Enum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8

        def __str__(self):
            return f"RedOpType.{self.name}"

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
