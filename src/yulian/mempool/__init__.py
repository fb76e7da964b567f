"""Mempool: admission of incoming transactions and the bounded pool of pending ones."""
