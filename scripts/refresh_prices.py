#!/usr/bin/env python3
"""Refresh constructs/eks_ai_data/ops/prices.json from the AWS Price List API (needs AWS credentials).

    .venv/bin/python scripts/refresh_prices.py --dry-run      # print what would change
    .venv/bin/python scripts/refresh_prices.py                # rewrite the table in place

See eks_ai_data.ops.price_refresh for what is queried and what is kept.
"""

import sys

from eks_ai_data.ops.price_refresh import main

if __name__ == "__main__":
    sys.exit(main())
