"""All ML, by task: ``screening/``, ``generation/`` and ``refresh/`` over ``common/``.

No module here imports Slack or ``bot``; ``tests/test_layers.py`` keeps the order.
"""
