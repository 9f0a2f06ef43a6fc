"""backtrader behind the engine protocol: its runner, adapter and differential rules."""
