"""Operations (运维): what the data bureau's operators look after beyond the lookups.

- ``tables``: the dead-letter index and the re-drives, in the gateway's database
  (migration 0010_redrives);
- ``deadletters``: the index of the `dead-letters` stream (死信), browsed by connector and code,
  keyset-paginated, personal ids masked before anything is stored;
- ``redrive``: re-fetch a fixed record from its source and publish it again, through a
  re-fetcher the composition root provides (the gateway never imports the connectors).
"""
