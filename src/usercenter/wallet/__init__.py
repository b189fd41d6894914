"""The wallet: a double-entry ledger of balances in fen, coins and points."""
