"""Data-sharing governance (共享治理) as the city runs it (国发〔2016〕51号): catalogue entries
published by their departments, applications (共享申请) checked by the data bureau and decided by
the providing department on working-day clocks, and the grants they become. Every step is one
transaction: the change, its audit row in the hash chain, and its event for the `governance`
stream (an outbox row the relay moves to the log), or none of them."""
